//! Unit tests of config parsing, overrides and validation.

use std::collections::HashMap;

use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

#[test]
fn the_issue_shape_parses() -> Result<(), String> {
    let config = Config::from_toml(
        r#"
        listen = "127.0.0.1:8080"
        data_dir = "/srv/tiered"
        policy = "my.wasm"
        admin_token = "secret"
        [hot]
        max_bytes = "128MiB"
        [warm]
        max_bytes = "8GiB"
        dir = "/fast/warm"
        [cold]
        kind = "local"
        [policy_config]
        "ttl.session/" = "30m"
        hot_max_object_bytes = 65536
        "#,
    )?;
    assert_eq!(config.listen, "127.0.0.1:8080");
    assert_eq!(config.hot.max_bytes, ByteSize(128 << 20));
    assert_eq!(config.warm.max_bytes, ByteSize(8 << 30));
    assert_eq!(config.warm_dir(), PathBuf::from("/fast/warm"));
    assert_eq!(config.cold_dir(), PathBuf::from("/srv/tiered/cold"));
    assert_eq!(config.policy_config.get("hot_max_object_bytes").map(String::as_str), Some("65536"));
    assert_eq!(config.policy_config.get("ttl.session/").map(String::as_str), Some("30m"));
    Ok(())
}

#[test]
fn an_empty_file_is_the_embedded_default() -> Result<(), String> {
    let config = Config::from_toml("")?;
    assert_eq!(config, Config::default());
    assert_eq!(config.listen, "127.0.0.1:7070");
    assert_eq!(config.hot.max_bytes, ByteSize(256 << 20));
    assert_eq!(config.warm_dir(), PathBuf::from("./tiered-data/warm"));
    assert_eq!(config.max_body_bytes, ByteSize(64 << 20));
    Ok(())
}

#[test]
fn errors_name_the_key_and_line() {
    let err = Config::from_toml("listen = \"127.0.0.1:1\"\n[hot]\nmax_bytes = \"12XB\"\n").unwrap_err();
    assert!(err.starts_with("hot.max_bytes: invalid size \"12XB\""), "{err}");
    assert!(err.ends_with("(line 3)"), "{err}");
    let err = Config::from_toml("[warm]\nmax_byte = \"1GiB\"\n").unwrap_err();
    assert!(err.starts_with("warm.max_byte: unknown field `max_byte`, expected `max_bytes`"), "{err}");
    let err = Config::from_toml("listen = [").unwrap_err();
    assert!(err.contains("line 1"), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");
}

#[test]
fn environment_overrides_the_file() -> Result<(), ConfigError> {
    let mut config = Config::default();
    config.apply_env(env(&[
        ("TIERED_LISTEN", "127.0.0.1:9000"),
        ("TIERED_DATA_DIR", "/d"),
        ("TIERED_ADMIN_TOKEN", "t"),
        ("TIERED_COLD", "s3"),
        ("TIERED_S3_BUCKET", "b"),
        ("TIERED_HOT_MAX_BYTES", "1MiB"),
        ("TIERED_STREAM_ABOVE_BYTES", "2MiB"),
        ("TIERED_MAX_OBJECT_BYTES", "1GiB"),
    ]))?;
    assert_eq!((config.stream_above_bytes, config.max_object_bytes), (ByteSize(2 << 20), ByteSize(1 << 30)));
    assert_eq!(config.listen, "127.0.0.1:9000");
    assert_eq!(config.data_dir, PathBuf::from("/d"));
    assert_eq!(config.admin_token.as_deref(), Some("t"));
    assert_eq!(config.cold.kind, ColdKind::S3);
    assert_eq!(config.cold.bucket.as_deref(), Some("b"));
    assert_eq!(config.hot.max_bytes, ByteSize(1 << 20));

    let err = Config::default().apply_env(env(&[("TIERED_COLD", "tape")])).unwrap_err().to_string();
    assert!(err.starts_with("environment variable TIERED_COLD: expected local or s3"), "{err}");
    Ok(())
}

#[test]
fn validation_refuses_what_cannot_run() {
    let with = |f: fn(&mut Config)| {
        let mut c = Config::default();
        f(&mut c);
        c.validate().map(|_| ()).map_err(|e| e.to_string())
    };
    assert_eq!(with(|_| {}), Ok(()));
    assert!(with(|c| c.listen = "localhost".into()).unwrap_err().starts_with("listen: \"localhost\" is not"));
    assert!(
        with(|c| c.cold.kind = ColdKind::S3).unwrap_err().starts_with("cold.bucket: cold.kind = \"s3\" needs a bucket")
    );
    assert_eq!(
        with(|c| {
            c.cold.kind = ColdKind::S3;
            c.cold.bucket = Some("b".into());
        }),
        Ok(())
    );
    assert!(with(|c| c.listen = "0.0.0.0:7070".into()).unwrap_err().contains("no admin_token is set"));
    assert_eq!(
        with(|c| {
            c.listen = "0.0.0.0:7070".into();
            c.admin_token = Some("t".into());
        }),
        Ok(())
    );
    assert!(with(|c| c.max_body_bytes = ByteSize(0)).unwrap_err().starts_with("max_body_bytes"));
    assert!(with(|c| c.stream_above_bytes = ByteSize(0)).unwrap_err().starts_with("stream_above_bytes"));
    assert!(with(|c| c.max_object_bytes = ByteSize(0)).unwrap_err().starts_with("max_object_bytes"));
}

#[test]
fn the_documented_example_is_the_embedded_default() -> Result<(), String> {
    let example = include_str!("../../../examples/config/tiered.toml");
    assert_eq!(Config::from_toml(example)?, Config::default());
    Ok(())
}
