//! Closed sets of named choices (integrators, refiners, losses, …): one trait that lists the
//! variants and their names, so that files, the command line and Python all parse and print
//! them alike. The names are the serde names written in records and configuration files.
//!
//! ```
//! use gradflow::named::Named;
//! use gradflow::flow::Integrator;
//! assert_eq!(Integrator::KenCarp58.name(), "kencarp58");
//! assert_eq!("tr-bdf2".parse::<Integrator>()?, Integrator::TrBdf2);
//! assert!(Integrator::ALL.contains(&Integrator::Adam));
//! # Ok::<(), gradflow::Error>(())
//! ```

/// A closed set of choices with stable names.
pub trait Named: Copy + Sized + 'static {
    /// What the choice is, for error messages (`integrator`, `refiner`, …).
    const KIND: &'static str;
    /// Every variant, in documentation order.
    const ALL: &'static [Self];
    /// The variant's name (its serde name).
    fn name(self) -> &'static str;

    /// The variant called `name`.
    fn from_name(name: &str) -> crate::Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.name() == name)
            .ok_or_else(|| crate::Error::UnknownName {
                kind: Self::KIND,
                name: name.to_string(),
                known: Self::ALL
                    .iter()
                    .map(|v| v.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// Implements [`Named`], `FromStr` and `Display` for a fieldless enum from its variant names.
macro_rules! named_enum {
    ($ty:ty, $kind:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $crate::named::Named for $ty {
            const KIND: &'static str = $kind;
            const ALL: &'static [Self] = &[$(<$ty>::$variant),+];
            fn name(self) -> &'static str {
                match self {
                    $(<$ty>::$variant => $name),+
                }
            }
        }
        impl std::str::FromStr for $ty {
            type Err = $crate::Error;
            fn from_str(s: &str) -> $crate::Result<Self> {
                <$ty as $crate::named::Named>::from_name(s.trim())
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad($crate::named::Named::name(*self))
            }
        }
    };
}
pub(crate) use named_enum;

#[cfg(test)]
mod tests {
    use super::Named;

    /// The names are the serde names, so a record's method field reads back as its enum.
    fn serde_names_agree<
        T: Named + serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    >() {
        for &v in T::ALL {
            let json = serde_json::to_value(v).unwrap();
            assert_eq!(json.as_str(), Some(v.name()), "{}", T::KIND);
            assert_eq!(serde_json::from_value::<T>(json).unwrap(), v);
            assert_eq!(T::from_name(v.name()).unwrap(), v);
        }
        assert!(T::from_name("no-such-name").is_err());
    }

    #[test]
    fn every_named_set_matches_its_serde_names() {
        serde_names_agree::<crate::flow::Integrator>();
        serde_names_agree::<crate::optim::Refiner>();
        serde_names_agree::<crate::optim::TrModel>();
        serde_names_agree::<crate::optim::TrSubproblem>();
        serde_names_agree::<crate::landscape::EndKind>();
        serde_names_agree::<crate::landscape::OnChannel>();
        serde_names_agree::<crate::net::Init>();
        serde_names_agree::<crate::net::Loss>();
        serde_names_agree::<crate::teacher::InputDistribution>();
        serde_names_agree::<crate::monitor::StopReason>();
    }
}
