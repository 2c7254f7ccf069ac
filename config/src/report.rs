//! The bounded list of errors validation collects.

use crate::error::{ConfigError, ErrorKind};
use crate::limits::MAX_ERRORS;
use heapless::Vec;

/// Collects errors; when full, the last slot becomes [`ErrorKind::MoreErrors`]
/// so the reader knows the list is incomplete.
#[derive(Default)]
pub(crate) struct Report {
    errors: Vec<ConfigError, MAX_ERRORS>,
}

impl Report {
    pub(crate) fn push(&mut self, error: ConfigError) {
        if self.errors.push(error).is_err() {
            if let Some(last) = self.errors.last_mut() {
                if last.kind != ErrorKind::MoreErrors {
                    *last = ConfigError::at(None, &[], ErrorKind::MoreErrors);
                }
            }
        }
    }

    pub(crate) fn into_errors(self) -> Vec<ConfigError, MAX_ERRORS> {
        self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::Report;
    use crate::error::{ConfigError, ErrorKind};
    use crate::limits::MAX_ERRORS;

    #[test]
    fn overflowing_errors_end_in_more_errors() {
        let mut r = Report::default();
        for _ in 0..MAX_ERRORS + 5 {
            r.push(ConfigError::at(None, &[], ErrorKind::NoPartitions));
        }
        let errors = r.into_errors();
        assert_eq!(errors.len(), MAX_ERRORS);
        assert_eq!(errors[MAX_ERRORS - 2].kind, ErrorKind::NoPartitions);
        assert_eq!(errors[MAX_ERRORS - 1].kind, ErrorKind::MoreErrors);
    }
}
