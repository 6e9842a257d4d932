#!/usr/bin/env python3
"""Prints SQL that seeds the demo accounts into a LOCAL development D1 (make dev, tests). Never run
against production: scripts/seed-demo.sh only ever passes --local.

One account per role plus one admin, password fhiriq-demo-<role>. Hashes use the platform's format
(pbkdf2-sha256$100000$salt$hash, a random salt each), so they sign in like any other account.
INSERT OR IGNORE keeps seeding idempotent."""
import hashlib
import os

ITERATIONS = 100_000
ROLES = ["free", "student", "pro", "enterprise", "admin"]


def password_hash(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS, 32)
    return f"pbkdf2-sha256${ITERATIONS}${salt.hex()}${digest.hex()}"


def main() -> None:
    print("-- demo accounts (development only)")
    for role in ROLES:
        user_id = f"demo-{role}"
        email = f"{role}@demo.fhiriq.test"
        admin = 1 if role == "admin" else 0
        print(
            "INSERT OR IGNORE INTO users (id, email, password_hash, admin, created_at, password_changed_at, "
            "email_verified_at) "
            f"VALUES ('{user_id}', '{email}', '{password_hash('fhiriq-demo-' + role)}', {admin}, 0, 0, 0);"
        )
    # student: a completed one-time purchase; pro and enterprise: an active subscription.
    print("INSERT OR IGNORE INTO orders (id, user_id, product, status, created_at) "
          "VALUES ('demo-order', 'demo-student', 'course:fhir-fundamentals', 'completed', 0);")
    for plan in ["pro", "enterprise"]:
        print("INSERT OR IGNORE INTO subscriptions (id, user_id, plan, status, updated_at) "
              f"VALUES ('demo-sub-{plan}', 'demo-{plan}', '{plan}', 'active', 0);")
    # enterprise: the owner of a demo organisation (its analytics dashboard has a scope to show).
    print("INSERT OR IGNORE INTO organisations (id, name, owner_id, created_at) "
          "VALUES ('demo-org', 'Demo Health Systems', 'demo-enterprise', 0);")
    print("UPDATE users SET org_id = 'demo-org' WHERE id = 'demo-enterprise' AND org_id IS NULL;")


if __name__ == "__main__":
    main()
