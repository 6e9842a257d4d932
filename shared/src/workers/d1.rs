use crate::error::{Error, Result};
use crate::storage::{Database, SqlValue, Statement};
use serde::de::DeserializeOwned;
use worker::wasm_bindgen::JsValue;

/// [`Database`] on Cloudflare D1.
pub struct D1(pub worker::D1Database);

fn failed(e: worker::Error) -> Error {
    Error::storage("running SQL on D1", e)
}

fn to_js(value: &SqlValue) -> JsValue {
    match value {
        SqlValue::Null => JsValue::NULL,
        // D1 binds JS numbers; every integer we store (ids, counts, millisecond times) is below 2^53.
        SqlValue::Integer(i) => JsValue::from_f64(*i as f64),
        SqlValue::Real(f) => JsValue::from_f64(*f),
        SqlValue::Text(s) => JsValue::from_str(s),
    }
}

impl D1 {
    fn prepare(&self, statement: &Statement) -> Result<worker::D1PreparedStatement> {
        let params: Vec<JsValue> = statement.params.iter().map(to_js).collect();
        self.0.prepare(statement.sql).bind(&params).map_err(failed)
    }
}

impl Database for D1 {
    async fn execute(&self, statement: Statement) -> Result<u64> {
        let result = self.prepare(&statement)?.run().await.map_err(failed)?;
        let changes = result.meta().map_err(failed)?.and_then(|m| m.changes).unwrap_or(0);
        Ok(changes as u64)
    }

    async fn query<T: DeserializeOwned>(&self, statement: Statement) -> Result<Vec<T>> {
        let result = self.prepare(&statement)?.all().await.map_err(failed)?;
        result.results::<T>().map_err(failed)
    }

    async fn batch(&self, statements: Vec<Statement>) -> Result<()> {
        let prepared = statements.iter().map(|s| self.prepare(s)).collect::<Result<Vec<_>>>()?;
        self.0.batch(prepared).await.map_err(failed)?;
        Ok(())
    }
}
