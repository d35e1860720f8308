//! 1009 UPDATE_CONTROLLER_CONFIG and 1010 GET_CONTROLLER_CONFIG: served by
//! every node on its own configuration, never replicated.

use crate::controller::config::ControllerConfig;
use crate::controller::error::ControllerError;
use crate::controller::outcome::Outcome;
use crate::remoting::ResponseCode;

/// Applies properties text. A black-listed key gives NO_PERMISSION and
/// changes nothing; unparsable text (Java) or a bad value (ours: Java would
/// ignore it silently) gives SYSTEM_ERROR and changes nothing. The caller
/// persists the result to `configStorePath`.
pub fn update(config: &mut ControllerConfig, body: &[u8]) -> Outcome {
    if body.is_empty() {
        return Outcome::success();
    }
    match config.update_from_text(&String::from_utf8_lossy(body)) {
        Ok(unknown) => {
            if !unknown.is_empty() {
                tracing::info!(?unknown, "controller config keys ignored");
            }
            Outcome::success()
        }
        Err(err @ ControllerError::BlackListed { .. }) => {
            Outcome::refused(ResponseCode::NO_PERMISSION, err.to_string())
        }
        Err(err) => Outcome::system_error(&err),
    }
}

pub fn get(config: &ControllerConfig) -> Outcome {
    Outcome::success().body(config.to_properties_text().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_codes_and_get_body() {
        let mut c = ControllerConfig::default();
        assert_eq!(update(&mut c, b"").code, ResponseCode::SUCCESS);
        assert_eq!(
            update(&mut c, b"configStorePath=/tmp/x").code,
            ResponseCode::NO_PERMISSION
        );
        assert_eq!(
            update(&mut c, b"electMasterMaxRetryCount=many").code,
            ResponseCode::SYSTEM_ERROR
        );
        assert_eq!(
            update(&mut c, b"a=\\u00zz").code,
            ResponseCode::SYSTEM_ERROR
        );
        assert_eq!(
            update(&mut c, b"electMasterMaxRetryCount=5").code,
            ResponseCode::SUCCESS
        );
        assert_eq!(c.elect_master_max_retry_count, 5);
        let body = String::from_utf8(get(&c).body.unwrap()).unwrap();
        assert!(body.contains("electMasterMaxRetryCount=5\n"), "{body}");
    }
}
