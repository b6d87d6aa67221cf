//! A refused request.

/// A failed request: a V2TIM error code and a description. Every layer refuses with this; the
/// gateway turns it into the response frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// V2TIM error code.
    pub code: i32,
    /// What was wrong.
    pub desc: String,
}

impl Refusal {
    /// A refusal with `code`.
    pub fn new(code: i32, desc: impl Into<String>) -> Refusal {
        Refusal { code, desc: desc.into() }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.desc, self.code)
    }
}

impl std::error::Error for Refusal {}
