//! The methods axis of a study: named training pipelines (integrator + refiner + budgets + any
//! option), each run on every (teacher, ρ, seed) of the grid from the same initial point, so
//! that `gradflow report` can compare them (time-to-target tables, performance and data
//! profiles: [`crate::report::benchmark`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::flow::{FlowConfig, Integrator};
use crate::optim::{RefineConfig, Refiner};

/// One named pipeline of a study's `methods` axis.
///
/// `ode` and `optim` name the integrator and the refiner (`"none"` skips the phase); a name of
/// the form `integrator+refiner` (e.g. `"kencarp58+newton-tr"`) sets both when neither is
/// given. Every other key is an option of the flow ([`FlowConfig`]) or of the refinement
/// ([`RefineConfig`]) by its field name, set over the study's `[flow]` and `[refine]`; a key
/// both have (`minloss`, `min_gnorm`, `patience`, `max_memory_gib`) sets both.
///
/// ```
/// use gradflow::study::MethodSpec;
/// use gradflow::flow::{FlowConfig, Integrator};
/// use gradflow::optim::{RefineConfig, Refiner};
/// let m: Vec<MethodSpec> = toml::from_str::<toml::Table>(r#"
///     methods = [
///         { name = "kencarp58+newton-tr" },
///         { name = "rodas5p+lm", ode = "rodas5p", optim = "lm" },
///         { name = "adam", ode = "adam", lr = 1e-3, optim = "none" },
///     ]
/// "#)?["methods"].clone().try_into()?;
/// let (flow, refine) = m[2].apply(&FlowConfig::default(), &RefineConfig::default())?;
/// assert_eq!(flow.integrator, Some(Integrator::Adam));
/// assert_eq!(flow.lr, 1e-3);
/// assert_eq!(refine.maxtime_optim, 0.0); // "none": the refinement is skipped
/// let (flow, refine) = m[0].apply(&FlowConfig::default(), &RefineConfig::default())?;
/// assert_eq!((flow.integrator, refine.refiner), (Some(Integrator::KenCarp58), Some(Refiner::NewtonTr)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodSpec {
    /// The method's name: its column in the report and its folder among the tasks (letters,
    /// digits and `+ - _ .`).
    pub name: String,
    /// The integrator of phase 1, or `"none"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ode: Option<String>,
    /// The refiner of phase 2, or `"none"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optim: Option<String>,
    /// Options of either phase by field name.
    #[serde(flatten)]
    pub options: BTreeMap<String, serde_json::Value>,
}

/// The keyword that skips a phase.
pub const NONE: &str = "none";

impl MethodSpec {
    /// A method by name alone (`integrator+refiner`).
    pub fn named(name: &str) -> Self {
        MethodSpec {
            name: name.to_string(),
            ode: None,
            optim: None,
            options: BTreeMap::new(),
        }
    }

    /// `name` as an integrator or refiner, an error naming the method's field `what` else.
    fn parse<T: std::str::FromStr<Err = Error>>(&self, what: &str, name: &str) -> Result<T> {
        name.parse()
            .map_err(|e: Error| Error::invalid(self.field(what), e.to_string()))
    }

    fn field(&self, what: &str) -> String {
        format!("methods.{}.{what}", self.name)
    }

    /// The (integrator, refiner) names: `ode`/`optim`, or the two halves of the name.
    fn phases(&self) -> Result<(Option<String>, Option<String>)> {
        if self.ode.is_some() || self.optim.is_some() {
            return Ok((self.ode.clone(), self.optim.clone()));
        }
        let (a, b) = match self.name.split_once('+') {
            Some((a, b)) => (a, Some(b)),
            None => (self.name.as_str(), None),
        };
        let is_integrator = a == NONE || a.parse::<Integrator>().is_ok();
        let is_refiner = b.is_none_or(|b| b == NONE || b.parse::<Refiner>().is_ok());
        if !(is_integrator && is_refiner) {
            return Err(Error::invalid(
                self.field("ode"),
                "give `ode` and/or `optim`, or name the method `integrator+refiner`",
            ));
        }
        Ok((Some(a.to_string()), b.map(str::to_string)))
    }

    /// The flow and refinement options of this method: `flow` and `refine` (the study's) with
    /// the method's integrator, refiner and options set over them.
    pub fn apply(
        &self,
        flow: &FlowConfig,
        refine: &RefineConfig,
    ) -> Result<(FlowConfig, RefineConfig)> {
        let (ode, optim) = self.phases()?;
        let mut f =
            serde_json::to_value(flow).map_err(|e| Error::invalid("flow", e.to_string()))?;
        let mut r =
            serde_json::to_value(refine).map_err(|e| Error::invalid("refine", e.to_string()))?;
        for (k, v) in &self.options {
            let mut found = false;
            for obj in [&mut f, &mut r] {
                if let Some(slot) = obj.get_mut(k) {
                    *slot = v.clone();
                    found = true;
                }
            }
            if !found {
                return Err(Error::invalid(
                    self.field(k),
                    "is neither a flow nor a refinement option",
                ));
            }
        }
        let mut flow: FlowConfig = serde_json::from_value(f)
            .map_err(|e| Error::invalid(self.field("options"), e.to_string()))?;
        let mut refine: RefineConfig = serde_json::from_value(r)
            .map_err(|e| Error::invalid(self.field("options"), e.to_string()))?;
        match ode.as_deref() {
            None => {}
            Some(NONE) => flow.maxiterations_ode = 0,
            Some(name) => flow.integrator = Some(self.parse("ode", name)?),
        }
        match optim.as_deref() {
            None => {}
            Some(NONE) => refine.maxtime_optim = 0.0,
            Some(name) => refine.refiner = Some(self.parse("optim", name)?),
        }
        Ok((flow, refine))
    }
}

/// Checks a `methods` axis: names unique and usable as folder names, every method resolvable.
pub fn check_methods(
    methods: &[MethodSpec],
    flow: &FlowConfig,
    refine: &RefineConfig,
) -> Result<()> {
    for (i, m) in methods.iter().enumerate() {
        let ok = !m.name.is_empty()
            && !m.name.starts_with('.')
            && m.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-_.".contains(c));
        if !ok {
            return Err(Error::invalid(
                "study: methods.name",
                format!(
                    "`{}` is not a method name (letters, digits and + - _ .)",
                    m.name
                ),
            ));
        }
        if methods[..i].iter().any(|o| o.name == m.name) {
            return Err(Error::invalid(
                "study: methods.name",
                format!("two methods are named `{}`", m.name),
            ));
        }
        m.apply(flow, refine)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_options_and_errors() {
        let (flow, refine) = (FlowConfig::default(), RefineConfig::default());
        let m = MethodSpec::named("none+newton-tr");
        let (f, r) = m.apply(&flow, &refine).unwrap();
        assert_eq!(f.maxiterations_ode, 0);
        assert_eq!(r.refiner, Some(Refiner::NewtonTr));
        let m = MethodSpec::named("tsit5");
        let (f, r) = m.apply(&flow, &refine).unwrap();
        assert_eq!((f.integrator, r.refiner), (Some(Integrator::Tsit5), None));
        assert!(MethodSpec::named("fast").apply(&flow, &refine).is_err());
        let mut m = MethodSpec::named("x");
        m.ode = Some("rodas5p".into());
        m.options.insert("minloss".into(), serde_json::json!(1e-12));
        m.options
            .insert("maxtime_optim".into(), serde_json::json!(2.0));
        let (f, r) = m.apply(&flow, &refine).unwrap();
        assert_eq!((f.minloss, r.minloss, r.maxtime_optim), (1e-12, 1e-12, 2.0));
        m.options.insert("speed".into(), serde_json::json!(1));
        let e = m.apply(&flow, &refine).unwrap_err().to_string();
        assert!(e.contains("methods.x.speed"), "{e}");
        m.options.remove("speed");
        m.options.insert("lr".into(), serde_json::json!("fast"));
        assert!(m.apply(&flow, &refine).is_err());
        let bad = [MethodSpec::named("rodas5p"), MethodSpec::named("rodas5p")];
        assert!(check_methods(&bad, &flow, &refine).is_err());
        assert!(check_methods(&[MethodSpec::named("a/b")], &flow, &refine).is_err());
    }
}
