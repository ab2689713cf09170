//! Scenario text format, built-in scenarios and variants.
