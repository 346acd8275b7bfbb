//! Reading back numbers that JSON cannot hold.
//!
//! JSON has no NaN or infinity, and serde_json writes them as `null`. A run that diverged has
//! NaN losses or gradient norms in its record; fields that may hold them are read with
//! [`f64_or_nan`], so such a record reads back (as NaN) instead of failing — and a resumed
//! study does not mistake it for a damaged file.
//!
//! ```
//! #[derive(serde::Deserialize)]
//! struct S {
//!     #[serde(deserialize_with = "gradflow::io::non_finite::f64_or_nan")]
//!     loss: f64,
//! }
//! let s: S = serde_json::from_str(r#"{"loss": null}"#).unwrap();
//! assert!(s.loss.is_nan());
//! let s: S = serde_json::from_str(r#"{"loss": 0.5}"#).unwrap();
//! assert!((s.loss - 0.5).abs() < 1e-300);
//! ```

use serde::{Deserialize, Deserializer};

/// A number, or NaN for `null` (how serde_json writes NaN and ±infinity).
pub fn f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// A number, or +∞ for `null`: for ODE times, which become infinite (never NaN) once a
/// converged gradient flow's steps overflow.
pub fn f64_or_infinity<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
}

/// NaN: the `serde(default)` of fields missing from older files.
pub fn nan() -> f64 {
    f64::NAN
}

/// Whether a field is NaN (`serde(skip_serializing_if)` of fields that older files lack, so
/// that a record read back and written again stays without them).
pub fn is_nan(v: &f64) -> bool {
    v.is_nan()
}
