//! Roles, permissions and the one function that decides access.
//!
//! A user's role is derived, never stored: the plan of an active subscription (their own or, for an
//! organisation member, the organisation's), else `student` with a completed one-time purchase, else
//! `free`. Staff carry a separate `admin` flag.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Free,
    Student,
    Pro,
    Enterprise,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Free, Role::Student, Role::Pro, Role::Enterprise];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Student => "student",
            Self::Pro => "pro",
            Self::Enterprise => "enterprise",
        }
    }

    /// Paid plans only: `free` is the absence of one.
    pub fn parse_plan(raw: &str) -> Result<Self> {
        match raw {
            "student" => Ok(Self::Student),
            "pro" => Ok(Self::Pro),
            "enterprise" => Ok(Self::Enterprise),
            other => Err(Error::Unprocessable(format!("unknown plan {other:?}; use student, pro or enterprise"))),
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// The plan's name as customers read it: "Pro".
    pub fn title(self) -> &'static str {
        match self {
            Self::Free => "Free",
            Self::Student => "Student",
            Self::Pro => "Pro",
            Self::Enterprise => "Enterprise",
        }
    }

    /// What the role grants, in the matrix's order. Each plan has the permissions of the one below it,
    /// except that student and up trade the basic assistant for the full one.
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL.into_iter().filter(|p| self.has(*p)).collect()
    }

    pub fn has(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            ViewPublicContent | ViewToolsCatalog => true,
            AccessBasicChatbot => self == Self::Free,
            AccessFullChatbot | EnrollCourses | TakeQuizzes | DownloadResources => self >= Self::Student,
            UseFhirBuilder | CreateGithubRepos | PrioritySupport => self >= Self::Pro,
            BulkUserManagement | AnalyticsDashboard | CustomIntegrations => self == Self::Enterprise,
        }
    }
}

/// The permission matrix's vocabulary, as the original design names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ViewPublicContent,
    AccessBasicChatbot,
    ViewToolsCatalog,
    AccessFullChatbot,
    EnrollCourses,
    TakeQuizzes,
    DownloadResources,
    UseFhirBuilder,
    CreateGithubRepos,
    PrioritySupport,
    BulkUserManagement,
    AnalyticsDashboard,
    CustomIntegrations,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
        Permission::ViewPublicContent,
        Permission::AccessBasicChatbot,
        Permission::ViewToolsCatalog,
        Permission::AccessFullChatbot,
        Permission::EnrollCourses,
        Permission::TakeQuizzes,
        Permission::DownloadResources,
        Permission::UseFhirBuilder,
        Permission::CreateGithubRepos,
        Permission::PrioritySupport,
        Permission::BulkUserManagement,
        Permission::AnalyticsDashboard,
        Permission::CustomIntegrations,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ViewPublicContent => "view_public_content",
            Self::AccessBasicChatbot => "access_basic_chatbot",
            Self::ViewToolsCatalog => "view_tools_catalog",
            Self::AccessFullChatbot => "access_full_chatbot",
            Self::EnrollCourses => "enroll_courses",
            Self::TakeQuizzes => "take_quizzes",
            Self::DownloadResources => "download_resources",
            Self::UseFhirBuilder => "use_fhir_builder",
            Self::CreateGithubRepos => "create_github_repos",
            Self::PrioritySupport => "priority_support",
            Self::BulkUserManagement => "bulk_user_management",
            Self::AnalyticsDashboard => "analytics_dashboard",
            Self::CustomIntegrations => "custom_integrations",
        }
    }

    /// What the permission means to a customer (the pricing page, the account page).
    pub fn label(self) -> &'static str {
        match self {
            Self::ViewPublicContent => "Public articles and guides",
            Self::AccessBasicChatbot => "FHIR assistant (daily question limit)",
            Self::ViewToolsCatalog => "Tools catalog",
            Self::AccessFullChatbot => "Full FHIR assistant with conversation history",
            Self::EnrollCourses => "Course enrolment",
            Self::TakeQuizzes => "Quizzes and progress tracking",
            Self::DownloadResources => "Downloadable course resources",
            Self::UseFhirBuilder => "FHIR Builder code generation",
            Self::CreateGithubRepos => "Push generated projects to GitHub",
            Self::PrioritySupport => "Priority support",
            Self::BulkUserManagement => "Team members and invitations",
            Self::AnalyticsDashboard => "Analytics dashboard",
            Self::CustomIntegrations => "Custom integrations",
        }
    }

    /// The cheapest plan that grants this permission.
    pub fn unlocked_by(self) -> Role {
        Role::ALL.into_iter().find(|r| r.has(self)).unwrap_or(Role::Enterprise)
    }
}

/// What an endpoint requires. Every route declares one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (authenticity, if any, is checked another way: a webhook signature).
    Public,
    /// Any signed-in user.
    SignedIn,
    /// Signed in with a plan that grants the permission.
    Permission(Permission),
    /// Signed in with a plan that grants either (the basic or the full assistant).
    Either(Permission, Permission),
    /// Staff, or signed in with a plan that grants the permission (the analytics dashboard: staff see
    /// the platform, an enterprise owner their organisation).
    PermissionOrAdmin(Permission),
    /// Staff only.
    Admin,
    /// Staff, or another service presenting the internal service token (`Authorization: Bearer`).
    AdminOrService,
    /// What the inner access requires, by an account whose email address is verified: buying,
    /// enrolling, connecting GitHub, inviting and accepting an invitation ([`crate::auth::verify`]).
    Verified(&'static Access),
}

/// The message every refused unverified request carries; the account page shows how to verify
/// (`crate::auth::verify`).
pub const UNVERIFIED: &str = "Verify your email address first: open the link we sent you, or send a new one from \
                              /account. Until then you can use the free assistant.";

/// The signed-in user behind a request, loaded from the session (in the site) or from the site's
/// signed forward (in a function worker, `crate::auth::internal`). `Deserialize` exists only for that
/// forward, read after its signature is checked: never build a `Caller` from a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    pub admin: bool,
    pub org_id: Option<String>,
    pub org_owner: bool,
    /// The account has used an email verification link (or predates verification).
    pub verified: bool,
}

/// The one function that decides. 401 when not signed in, 403 naming the plan that unlocks it, and
/// 403 `email_unverified` on a [`Access::Verified`] route for an account that has not verified.
pub fn authorize(access: Access, caller: Option<&Caller>) -> Result<()> {
    let signed_in = || caller.ok_or_else(|| Error::Unauthorized("Sign in to continue.".into()));
    let denied = |permission: Permission| {
        let plan = permission.unlocked_by();
        Error::Forbidden(format!(
            "This needs the {} plan or higher ({}). Upgrade at /pricing.",
            plan.title(),
            permission.as_str()
        ))
    };
    match access {
        Access::Public => Ok(()),
        Access::SignedIn => signed_in().map(|_| ()),
        Access::Permission(p) => {
            if signed_in()?.role.has(p) {
                Ok(())
            } else {
                Err(denied(p))
            }
        }
        Access::Either(a, b) => {
            let caller = signed_in()?;
            if caller.role.has(a) || caller.role.has(b) {
                Ok(())
            } else {
                Err(denied(if a.unlocked_by() <= b.unlocked_by() { a } else { b }))
            }
        }
        Access::PermissionOrAdmin(p) => {
            let caller = signed_in()?;
            if caller.admin || caller.role.has(p) { Ok(()) } else { Err(denied(p)) }
        }
        Access::Admin | Access::AdminOrService => {
            if signed_in()?.admin {
                Ok(())
            } else {
                Err(Error::Forbidden("Only FHIR IQ staff can do this.".into()))
            }
        }
        Access::Verified(inner) => {
            authorize(*inner, caller)?;
            match caller {
                Some(caller) if !caller.verified => Err(Error::EmailUnverified(UNVERIFIED.into())),
                _ => Ok(()),
            }
        }
    }
}

/// The derived role, from what the stored subscriptions and orders say.
pub fn derive_role(own_plan: Option<Role>, org_plan: Option<Role>, completed_order: bool) -> Role {
    match own_plan.max(org_plan) {
        Some(plan) => plan,
        None if completed_order => Role::Student,
        None => Role::Free,
    }
}

/// The identity of a request that presented the internal service token: staff-level, on the routes
/// that accept it (`Access::AdminOrService`) only.
pub fn service_caller() -> Caller {
    Caller {
        user_id: "service".into(),
        email: "service@internal".into(),
        role: Role::Free,
        admin: true,
        org_id: None,
        org_owner: false,
        verified: true,
    }
}

/// Whether `presented` is the configured service token, compared in constant time (both hashed
/// first, so their lengths do not matter either).
pub fn is_service_token(presented: Option<&str>, configured: Option<&crate::config::Secret>) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let (Some(presented), Some(configured)) = (presented, configured) else { return false };
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(configured.expose().as_bytes());
    bool::from(a.ct_eq(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    fn caller(role: Role, admin: bool) -> Caller {
        Caller {
            user_id: "u".into(),
            email: "u@example.org".into(),
            role,
            admin,
            org_id: None,
            org_owner: false,
            verified: true,
        }
    }

    #[test]
    fn the_matrix_is_exactly_as_designed() {
        let names = |r: Role| r.permissions().iter().map(|p| p.as_str()).collect::<Vec<_>>();
        assert_eq!(names(Role::Free), ["view_public_content", "access_basic_chatbot", "view_tools_catalog"]);
        assert!(!Role::Student.has(AccessBasicChatbot), "student: free's minus the basic chatbot");
        for p in [AccessFullChatbot, EnrollCourses, TakeQuizzes, DownloadResources, ViewPublicContent, ViewToolsCatalog]
        {
            assert!(Role::Student.has(p), "student has {p:?}");
        }
        assert_eq!(Role::Student.permissions().len(), 6);
        for p in Role::Student.permissions() {
            assert!(Role::Pro.has(p), "pro has student's {p:?}");
        }
        assert_eq!(Role::Pro.permissions().len(), 9);
        for p in Role::Pro.permissions() {
            assert!(Role::Enterprise.has(p), "enterprise has pro's {p:?}");
        }
        assert_eq!(Role::Enterprise.permissions().len(), 12);
    }

    #[test]
    fn a_verified_route_refuses_an_unverified_account_after_its_plan_check() {
        let needs_pro = Access::Verified(&Access::Permission(UseFhirBuilder));
        let unverified = |role| Caller { verified: false, ..caller(role, false) };
        assert_eq!(authorize(needs_pro, None).expect_err("signed out").status_code(), 401);
        let too_low = authorize(needs_pro, Some(&unverified(Role::Free))).expect_err("plan first");
        assert_eq!(too_low.code(), "forbidden", "the plan is named before the address: {too_low}");
        let refused = authorize(needs_pro, Some(&unverified(Role::Pro))).expect_err("unverified");
        assert_eq!((refused.status_code(), refused.code()), (403, "email_unverified"));
        assert!(authorize(needs_pro, Some(&caller(Role::Pro, false))).is_ok(), "verified");
        assert!(authorize(Access::SignedIn, Some(&unverified(Role::Free))).is_ok(), "other routes are open to it");
        assert!(authorize(Access::Verified(&Access::SignedIn), Some(&service_caller())).is_ok());
    }

    #[test]
    fn denial_says_401_when_signed_out_and_403_naming_the_plan_when_signed_in() {
        let error = authorize(Access::Permission(UseFhirBuilder), None).expect_err("signed out");
        assert_eq!(error.status_code(), 401);
        let error =
            authorize(Access::Permission(UseFhirBuilder), Some(&caller(Role::Student, false))).expect_err("too low");
        assert_eq!(error.status_code(), 403);
        assert!(error.to_string().contains("Pro plan"), "{error}");
        assert!(authorize(Access::Permission(UseFhirBuilder), Some(&caller(Role::Pro, false))).is_ok());
        let error = authorize(Access::Admin, Some(&caller(Role::Enterprise, false))).expect_err("not staff");
        assert_eq!(error.status_code(), 403);
        assert!(authorize(Access::Admin, Some(&caller(Role::Free, true))).is_ok());
        assert!(authorize(Access::Public, None).is_ok());
    }

    #[test]
    fn only_the_exact_service_token_is_accepted() {
        let token = crate::config::Secret::new("s3rvice-token-0123456789abcdef");
        assert!(is_service_token(Some("s3rvice-token-0123456789abcdef"), Some(&token)));
        assert!(!is_service_token(Some("s3rvice-token-0123456789abcdeF"), Some(&token)));
        assert!(!is_service_token(Some(""), Some(&token)));
        assert!(!is_service_token(None, Some(&token)));
        assert!(!is_service_token(Some("anything"), None), "no token configured: none is accepted");
        assert!(authorize(Access::AdminOrService, Some(&service_caller())).is_ok());
    }

    #[test]
    fn either_chatbot_grants_the_assistant() {
        let access = Access::Either(AccessBasicChatbot, AccessFullChatbot);
        for role in Role::ALL {
            assert!(authorize(access, Some(&caller(role, false))).is_ok(), "{role:?}");
        }
    }

    #[test]
    fn roles_derive_from_subscriptions_then_orders() {
        assert_eq!(derive_role(None, None, false), Role::Free);
        assert_eq!(derive_role(None, None, true), Role::Student);
        assert_eq!(derive_role(Some(Role::Pro), None, true), Role::Pro);
        assert_eq!(
            derive_role(Some(Role::Student), Some(Role::Enterprise), false),
            Role::Enterprise,
            "members inherit the organisation's plan"
        );
    }
}
