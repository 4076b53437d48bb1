//! Examples of the estimator's JSON form, its errors and its argv, one small case each.

use super::*;

/// The two required fields, to which each case adds its own.
const REQUIRED: &str = r#""source_directory": "src", "entry_script": "train.py""#;

/// An estimator object with the required fields and `fields` (JSON members, may be empty).
fn with_required(fields: &str) -> String {
    if fields.is_empty() {
        format!("{{{REQUIRED}}}")
    } else {
        format!("{{{REQUIRED}, {fields}}}")
    }
}

/// Parses `fields` on top of the required ones, panicking with the errors if any.
fn parse_ok(fields: &str) -> Estimator {
    match Estimator::from_json(&with_required(fields)) {
        Ok(e) => e,
        Err(errors) => panic!("{fields}: unexpected errors:\n{}", join_lines(&errors)),
    }
}

fn join_lines(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The data path used in argv cases: where a local mount would put it.
fn mount_path(d: &DataReference) -> String {
    format!("/mnt/{}/{}", d.datastore, d.path_on_datastore)
}

/// `script_params` (a JSON object) gives `expect` as argv.
#[track_caller]
fn check_argv(script_params: &str, expect: &[&str]) {
    let e = parse_ok(&format!(r#""script_params": {script_params}"#));
    assert_eq!(
        e.argv(&mount_path),
        expect,
        "script_params: {script_params}"
    );
}

/// The whole JSON `text` is rejected with exactly the errors `expect`, in order.
#[track_caller]
fn check_errors(text: &str, expect: &[&str]) {
    match Estimator::from_json(text) {
        Ok(e) => panic!("{text}: expected errors, parsed {e:?}"),
        Err(errors) => assert_eq!(join_lines(&errors), expect.join("\n"), "input: {text}"),
    }
}

/// `fields` on top of the required ones are rejected with exactly `expect`.
#[track_caller]
fn check_field_errors(fields: &str, expect: &[&str]) {
    check_errors(&with_required(fields), expect);
}

#[test]
fn argv_follows_the_sdk_rules() {
    // The SDK documentation's example: an int, and `""` for a flag without a value.
    check_argv(
        r#"{"--numbers-in-sequence": 10, "--my_bool_var": ""}"#,
        &["--numbers-in-sequence", "10", "--my_bool_var"],
    );
    check_argv(r#"{"--regularization": 0.8}"#, &["--regularization", "0.8"]);
    // None drops the pair.
    check_argv(r#"{"--a": null, "--b": 1}"#, &["--b", "1"]);
    check_argv(r#"{"--a": null}"#, &[]);
    check_argv("{}", &[]);
    // Booleans print as Python's.
    check_argv(
        r#"{"--flag": true, "--other": false}"#,
        &["--flag", "True", "--other", "False"],
    );
    // Integers stay integers, floats print as Python's repr.
    check_argv(r#"{"--epochs": 10}"#, &["--epochs", "10"]);
    check_argv(r#"{"--epochs": 10.0}"#, &["--epochs", "10.0"]);
    check_argv(r#"{"--offset": -3}"#, &["--offset", "-3"]);
    check_argv(r#"{"--lr": 1e-5}"#, &["--lr", "1e-05"]);
    check_argv(r#"{"--lr": 0.0001}"#, &["--lr", "0.0001"]);
    check_argv(r#"{"--big": 1e16}"#, &["--big", "1e+16"]);
    check_argv(r#"{"--big": 1e5}"#, &["--big", "100000.0"]);
    // Strings go as they are, one argv entry each, spaces included.
    check_argv(r#"{"--name": "my run"}"#, &["--name", "my run"]);
    check_argv(r#"{"--quote": "it's"}"#, &["--quote", "it's"]);
    // A key alone with "" is a positional argument, as in the SDK.
    check_argv(r#"{"input.csv": ""}"#, &["input.csv"]);
    // Order is the order written, not sorted.
    check_argv(
        r#"{"--z": 1, "--a": 2, "--m": 3}"#,
        &["--z", "1", "--a", "2", "--m", "3"],
    );
    // A repeated key keeps its first place and its last value, like a Python dict.
    check_argv(
        r#"{"--a": 1, "--b": 2, "--a": 3}"#,
        &["--a", "3", "--b", "2"],
    );
    // A data reference becomes its path on the compute.
    check_argv(
        r#"{"--data-folder": {"datastore": "workspaceblobstore", "path_on_datastore": "mnist"}}"#,
        &["--data-folder", "/mnt/workspaceblobstore/mnist"],
    );
}

#[test]
fn script_argv_takes_values_built_in_code() {
    let params = vec![
        ("--lr".to_owned(), ParamValue::Float(0.1 + 0.2)),
        ("--inf".to_owned(), ParamValue::Float(f64::INFINITY)),
        ("--skip".to_owned(), ParamValue::None),
        ("--n".to_owned(), ParamValue::Int(i64::MIN)),
        ("--verbose".to_owned(), ParamValue::Str(String::new())),
        (
            "--data".to_owned(),
            ParamValue::Data(DataReference::new("ds", "x/y")),
        ),
    ];
    assert_eq!(
        script_argv(&params, &mount_path),
        [
            "--lr",
            "0.30000000000000004",
            "--inf",
            "inf",
            "--n",
            "-9223372036854775808",
            "--verbose",
            "--data",
            "/mnt/ds/x/y",
        ]
    );
}

#[test]
fn floats_print_as_python_repr() {
    #[track_caller]
    fn check(x: f64, expect: &str) {
        assert_eq!(python_float_repr(x), expect, "{x:?}");
    }
    // Expectations from CPython 3: `repr(x)`.
    check(0.8, "0.8");
    check(1.0, "1.0");
    check(100.0, "100.0");
    check(123.456, "123.456");
    check(-2.5, "-2.5");
    check(0.0, "0.0");
    check(-0.0, "-0.0");
    check(0.1 + 0.2, "0.30000000000000004");
    // Positional from 1e-4 up to below 1e16, scientific outside.
    check(1e-4, "0.0001");
    check(2.5e-4, "0.00025");
    check(0.00012345, "0.00012345");
    check(1e-5, "1e-05");
    check(3e-5, "3e-05");
    check(1.2345e-5, "1.2345e-05");
    check(-1e-7, "-1e-07");
    check(5e-11, "5e-11");
    check(1e15, "1000000000000000.0");
    check(9007199254740992.0, "9007199254740992.0");
    check(1e16, "1e+16");
    check(1e22, "1e+22");
    check(1e100, "1e+100");
    check(12345678901234567890.0, "1.2345678901234567e+19");
    check(f64::MAX, "1.7976931348623157e+308");
    check(5e-324, "5e-324");
    check(f64::INFINITY, "inf");
    check(f64::NEG_INFINITY, "-inf");
    check(f64::NAN, "nan");
}

#[test]
fn defaults_are_the_sdks() {
    let e = parse_ok("");
    assert_eq!(e, Estimator::new("src", "train.py"));
    assert_eq!((e.node_count, e.process_count_per_node), (1, 1));
    assert!(e.use_docker && !e.use_gpu && !e.user_managed);
    assert_eq!(e.framework, None);
    assert_eq!(e.distribution(), None);
    // `null` (Python's None) means the default too.
    assert_eq!(
        parse_ok(r#""node_count": null, "use_docker": null, "script_params": null"#),
        e
    );
}

#[test]
fn every_parameter_is_read() {
    let e = parse_ok(
        r#"
        "framework": "TensorFlow", "framework_version": "2.3",
        "compute_target": "local", "vm_size": "STANDARD_NC6", "vm_priority": "lowpriority",
        "script_params": {"--epochs": 3},
        "node_count": 2, "process_count_per_node": 1,
        "worker_count": 2, "parameter_server_count": 1,
        "distributed_backend": "PS",
        "use_gpu": true, "use_docker": true, "custom_docker_image": "python:3.11",
        "user_managed": false,
        "conda_packages": ["numpy"], "pip_packages": ["pillow==9.0"],
        "pip_requirements_file": "requirements.txt",
        "environment_variables": {"OMP_NUM_THREADS": "1", "_X": ""},
        "inputs": [{"datastore": "ds", "mode": "Download"}],
        "shm_size": "2G",
        "max_run_duration_seconds": 3600
        "#,
    );
    let mut expect = Estimator::new("src", "train.py");
    expect.framework = Some(Framework::TensorFlow);
    expect.framework_version = Some("2.3".into());
    expect.compute_target = Some("local".into());
    expect.vm_size = Some("STANDARD_NC6".into());
    expect.vm_priority = Some("lowpriority".into());
    expect.script_params = vec![("--epochs".into(), ParamValue::Int(3))];
    expect.node_count = 2;
    expect.worker_count = Some(2);
    expect.parameter_server_count = Some(1);
    expect.distributed_backend = Some(Backend::ParameterServer);
    expect.use_gpu = true;
    expect.custom_docker_image = Some("python:3.11".into());
    expect.conda_packages = vec!["numpy".into()];
    expect.pip_packages = vec!["pillow==9.0".into()];
    expect.pip_requirements_file = Some("requirements.txt".into());
    expect.environment_variables = BTreeMap::from([
        ("OMP_NUM_THREADS".into(), "1".into()),
        ("_X".into(), "".into()),
    ]);
    expect.inputs = vec![DataReference {
        mode: "download".into(),
        ..DataReference::new("ds", "")
    }];
    expect.shm_size = Some("2G".into());
    expect.max_run_duration_seconds = Some(3600);
    assert_eq!(e, expect);
    assert_eq!(
        e.distribution(),
        Some(DistributedTraining::ParameterServer {
            worker_count: 2,
            parameter_server_count: 1
        })
    );
    assert_eq!(e.pip_install(), ["tensorflow==2.3", "pillow==9.0"]);
}

#[test]
fn serialized_form_reads_back() {
    let mut e = parse_ok(
        r#""framework": "PyTorch", "node_count": 2,
           "distributed_training": {"type": "Mpi", "process_count_per_node": 2},
           "script_params": {"--b": 1.0, "--a": {"datastore": "ds"}, "--c": null, "--d": true},
           "custom_docker_base_image": "img""#,
    );
    let text = serde_json::to_string(&e).unwrap_or_default();
    assert_eq!(Estimator::from_json(&text), Ok(e.clone()));
    assert_eq!(
        serde_json::from_str::<Estimator>(&text).ok(),
        Some(e.clone())
    );
    // Every field is written, the alias under its current name, script_params in order.
    let value = serde_json::to_value(&e).unwrap_or_default();
    let keys: Vec<&str> = value
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert!(keys.iter().all(|k| KNOWN_FIELDS.contains(k)), "{keys:?}");
    assert_eq!(keys.len(), 26);
    assert_eq!(value["custom_docker_image"], "img");
    assert_eq!(value["distributed_training"]["type"], "Mpi");
    let params: Vec<&str> = value["script_params"]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(params, ["--b", "--a", "--c", "--d"]);

    // JSON has no NaN: it is written as Python's repr, which gives the same argv.
    e.script_params = vec![("--x".into(), ParamValue::Float(f64::NAN))];
    let text = serde_json::to_string(&e).unwrap_or_default();
    let back = Estimator::from_json(&text).unwrap_or_else(|errors| panic!("{errors:?}"));
    assert_eq!(back.argv(&mount_path), ["--x", "nan"]);
}

#[test]
fn serde_reads_with_the_same_checks() {
    let err = serde_json::from_str::<Estimator>(r#"{"source_directory": "src", "node_count": 0}"#)
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert_eq!(
        err,
        Err("entry_script: is required; node_count: must be at least 1, got 0".to_owned())
    );
    #[track_caller]
    fn check_value(json: &str, expect: ParamValue) {
        assert_eq!(serde_json::from_str::<ParamValue>(json).ok(), Some(expect));
    }
    check_value("10", ParamValue::Int(10));
    check_value("10.0", ParamValue::Float(10.0));
    check_value("null", ParamValue::None);
    check_value(r#""""#, ParamValue::Str(String::new()));
    check_value(
        r#"{"datastore": "ds", "mode": "DOWNLOAD"}"#,
        ParamValue::Data(DataReference {
            mode: "download".into(),
            ..DataReference::new("ds", "")
        }),
    );
    assert_eq!(
        serde_json::from_str::<DistributedTraining>(r#"{"type": "parameterserver"}"#).ok(),
        Some(DistributedTraining::ParameterServer {
            worker_count: 1,
            parameter_server_count: 1
        })
    );
    assert_eq!(
        serde_json::to_string(&DistributedTraining::Gloo).ok(),
        Some(r#"{"type":"Gloo"}"#.to_owned())
    );
}

#[test]
fn malformed_json_is_one_error_with_its_position() {
    check_errors(
        r#"{"source_directory": "src",}"#,
        &["estimator: trailing comma at line 1 column 28"],
    );
    check_errors(
        "{\n  \"entry_script\": 'train.py'\n}",
        &["estimator: expected value at line 2 column 19"],
    );
    check_errors(
        "",
        &["estimator: EOF while parsing a value at line 1 column 0"],
    );
    check_errors("[1]", &["estimator: expected a JSON object, got a list"]);
}

#[test]
fn unknown_fields_suggest_the_closest_known_one() {
    check_errors(
        r#"{"source_directory": "src", "entry_scirpt": "train.py"}"#,
        &[
            "entry_scirpt: unknown field 'entry_scirpt'; did you mean 'entry_script'?",
            "entry_script: is required",
        ],
    );
    check_field_errors(
        r#""scipt_params": {}"#,
        &["scipt_params: unknown field 'scipt_params'; did you mean 'script_params'?"],
    );
    check_field_errors(
        r#""Node_Count": 2"#,
        &["Node_Count: unknown field 'Node_Count'; did you mean 'node_count'?"],
    );
    check_field_errors(
        r#""use_gpus": true"#,
        &["use_gpus: unknown field 'use_gpus'; did you mean 'use_gpu'?"],
    );
    // Nothing close: no guess.
    check_field_errors(r#""banana": 1"#, &["banana: unknown field 'banana'"]);
    // Inside small objects, the known fields are listed.
    check_field_errors(
        r#""distributed_training": {"type": "Gloo", "process_count_per_node": 2}"#,
        &[
            "distributed_training.process_count_per_node: unknown field \
             'process_count_per_node' (known fields: type)",
        ],
    );
    check_field_errors(
        r#""inputs": [{"datastore": "ds", "path": "x"}]"#,
        &["inputs[0].path: unknown field 'path'; did you mean 'path_on_compute'?"],
    );
}

#[test]
fn wrong_types_name_the_field() {
    #[track_caller]
    fn check(fields: &str, expect: &str) {
        check_field_errors(fields, &[expect]);
    }
    check(
        r#""node_count": "2""#,
        r#"node_count: expected an integer, got the string "2""#,
    );
    check(
        r#""node_count": 2.0"#,
        "node_count: expected an integer, got 2.0",
    );
    check(
        r#""node_count": true"#,
        "node_count: expected an integer, got true",
    );
    check(
        r#""use_gpu": "yes""#,
        r#"use_gpu: expected true or false, got the string "yes""#,
    );
    check(
        r#""use_docker": 0"#,
        "use_docker: expected true or false, got 0",
    );
    check(
        r#""compute_target": 5"#,
        "compute_target: expected a string, got 5",
    );
    check(
        r#""framework_version": 1.6"#,
        "framework_version: expected a string, got 1.6",
    );
    check(
        r#""pip_packages": "numpy""#,
        r#"pip_packages: expected a list of strings, got the string "numpy""#,
    );
    check(
        r#""pip_packages": ["numpy", 3]"#,
        "pip_packages[1]: expected a string, got 3",
    );
    check(
        r#""environment_variables": {"X": 1}"#,
        "environment_variables['X']: expected a string, got 1",
    );
    check(
        r#""environment_variables": ["X=1"]"#,
        "environment_variables: expected an object of strings, got a list",
    );
    check(
        r#""script_params": ["--lr", 0.1]"#,
        "script_params: expected an object of flag → value, got a list",
    );
    check(
        r#""script_params": {"--sizes": [1, 2]}"#,
        "script_params['--sizes']: expected a string, a number, true/false, null or a data \
         reference, got a list",
    );
    check(
        r#""script_params": {"--seed": 18446744073709551615}"#,
        "script_params['--seed']: 18446744073709551615 is too large",
    );
    check(
        r#""script_params": {"--data": {"path_on_datastore": "x"}}"#,
        "script_params['--data'].datastore: is required",
    );
    check(
        r#""inputs": {"datastore": "ds"}"#,
        "inputs: expected a list of data references, got an object",
    );
    check(
        r#""inputs": ["ds"]"#,
        r#"inputs[0]: expected a data reference object, got the string "ds""#,
    );
    check(
        r#""max_run_duration_seconds": "1h""#,
        r#"max_run_duration_seconds: expected an integer, got the string "1h""#,
    );
    check(
        r#""distributed_training": "Mpi""#,
        r#"distributed_training: expected an object like {"type": "Mpi"}, got the string "Mpi""#,
    );
    check(
        r#""distributed_training": {"process_count_per_node": 2}"#,
        "distributed_training.type: is required: one of Mpi, Gloo, Nccl, ParameterServer",
    );
    check(
        r#""distributed_training": {"type": "Horovod"}"#,
        "distributed_training.type: 'Horovod' is not one of Mpi, Gloo, Nccl, ParameterServer",
    );
    check(
        r#""distributed_training": {"type": "Mpi", "process_count_per_node": "4"}"#,
        r#"distributed_training.process_count_per_node: expected an integer, got the string "4""#,
    );
}

#[test]
fn required_fields() {
    check_errors(
        "{}",
        &["source_directory: is required", "entry_script: is required"],
    );
    check_errors(
        r#"{"source_directory": null, "entry_script": "train.py"}"#,
        &["source_directory: is required"],
    );
    check_field_errors(
        r#""entry_script": """#,
        &["entry_script: must not be empty"],
    );
}

#[test]
fn every_error_is_reported_at_once() {
    check_errors(
        r#"{
            "source_directory": "src",
            "entry_script": "../x.py",
            "node_count": 0,
            "distributed_backend": "foo",
            "use_gpu": "yes",
            "pip_packages": ["numpy", " "],
            "environment_variables": {"1X": "a", "OK": "b"},
            "shm_size": "2 GB",
            "max_run_duration_seconds": 0,
            "entry_scirpt": "x.py"
        }"#,
        &[
            "entry_scirpt: unknown field 'entry_scirpt'; did you mean 'entry_script'?",
            "distributed_backend: 'foo' is not one of mpi, gloo, nccl, ps",
            "use_gpu: expected true or false, got the string \"yes\"",
            "entry_script: must be a relative path inside source_directory, got '../x.py'",
            "node_count: must be at least 1, got 0",
            "pip_packages[1]: must not be empty",
            "environment_variables['1X']: '1X' is not a valid environment variable name \
             (letters, digits and '_', not starting with a digit)",
            "shm_size: '2 GB' is not a size like 2g, 512m or 1024 (digits, then b, k, m or g)",
            "max_run_duration_seconds: must be positive, got 0",
        ],
    );
}

#[test]
fn value_rules() {
    #[track_caller]
    fn check(fields: &str, expect: &[&str]) {
        check_field_errors(fields, expect);
    }
    let outside = |p: &str| {
        format!("entry_script: must be a relative path inside source_directory, got '{p}'")
    };
    check(r#""entry_script": "/etc/x.py""#, &[&outside("/etc/x.py")]);
    check(
        r#""entry_script": "a/../../x.py""#,
        &[&outside("a/../../x.py")],
    );
    check(r#""entry_script": "C:\\x.py""#, &[&outside("C:\\x.py")]);
    check(r#""entry_script": "..\\x.py""#, &[&outside("..\\x.py")]);
    // The SDK allows any file, and `..` inside a name is no parent directory.
    parse_ok(r#""entry_script": "./scripts/train..v2.sh""#);
    parse_ok(r#""entry_script": "notebook.ipynb""#);

    check(
        r#""node_count": -1"#,
        &["node_count: must be at least 1, got -1"],
    );
    check(
        r#""process_count_per_node": 0"#,
        &["process_count_per_node: must be at least 1, got 0"],
    );
    check(
        r#""node_count": 5000000000"#,
        &["node_count: must be at most 4294967295, got 5000000000"],
    );
    check(
        r#""max_run_duration_seconds": -5"#,
        &["max_run_duration_seconds: must be positive, got -5"],
    );
    check(
        r#""vm_priority": "spot""#,
        &["vm_priority: 'spot' is not one of dedicated, lowpriority"],
    );
    check(
        r#""compute_target": """#,
        &["compute_target: must not be empty when given"],
    );
    check(
        r#""conda_packages": [""]"#,
        &["conda_packages[0]: must not be empty"],
    );
    check(
        r#""environment_variables": {"A-B": "1", "X": "a\u0000b"}"#,
        &[
            "environment_variables['A-B']: 'A-B' is not a valid environment variable name \
             (letters, digits and '_', not starting with a digit)",
            "environment_variables['X']: must not contain a NUL character",
        ],
    );
    check(
        r#""script_params": {"": 1}"#,
        &["script_params['']: a flag must not be empty"],
    );
    check(
        r#""inputs": [{"datastore": "", "path_on_datastore": "../up", "mode": "copy"}]"#,
        &[
            "inputs[0].datastore: must not be empty",
            "inputs[0].path_on_datastore: must not go up with '..', got '../up'",
            "inputs[0].mode: 'copy' is not one of mount, download, upload",
        ],
    );
    check(
        r#""pip_requirements_file": "/abs/requirements.txt""#,
        &[
            "pip_requirements_file: must be a relative path inside source_directory, got \
             '/abs/requirements.txt'",
        ],
    );
    check(
        r#""conda_dependencies_file": "env.yml", "pip_packages": ["x"], "conda_packages": ["y"]"#,
        &[
            "conda_dependencies_file: cannot be combined with conda_packages and \
             pip_packages: the conda file lists every package",
        ],
    );
    check(
        r#""user_managed": true, "pip_packages": ["x"]"#,
        &[
            "user_managed: a user-managed environment installs nothing, so pip_packages must \
           not be given",
        ],
    );
    check(
        r#""resume_from": {"datastore": "ds"}"#,
        &[
            "resume_from: is not supported by Runboard: pass the checkpoint as a data reference \
           in script_params, e.g. '--resume-from'",
        ],
    );
    // Unsupported parameters left at None are fine.
    parse_ok(r#""environment_definition": null"#);

    #[track_caller]
    fn shm(size: &str, ok: bool) {
        let result = Estimator::from_json(&with_required(&format!(r#""shm_size": "{size}""#)));
        assert_eq!(result.is_ok(), ok, "shm_size {size:?}: {result:?}");
    }
    for size in ["2g", "2G", "512m", "1024", "64k", "10b"] {
        shm(size, true);
    }
    for size in ["", "g", "2gb", "2 g", "-1g", "1.5g", "2t"] {
        shm(size, false);
    }
}

#[test]
fn docker_image_alias() {
    let image = |fields: &str| parse_ok(fields).custom_docker_image;
    assert_eq!(
        image(r#""custom_docker_base_image": "a""#),
        Some("a".into())
    );
    assert_eq!(image(r#""custom_docker_image": "a""#), Some("a".into()));
    assert_eq!(
        image(r#""custom_docker_image": "a", "custom_docker_base_image": "a""#),
        Some("a".into())
    );
    check_field_errors(
        r#""custom_docker_image": "a", "custom_docker_base_image": "b""#,
        &[
            "custom_docker_base_image: 'b' conflicts with custom_docker_image 'a'; \
           custom_docker_base_image is the deprecated name of custom_docker_image, give only \
           custom_docker_image",
        ],
    );
    check_field_errors(
        r#""use_docker": false, "custom_docker_base_image": "a""#,
        &["custom_docker_image: is not allowed when use_docker is false"],
    );
    // The other deprecated aliases work the same way.
    let e = parse_ok(r#""conda_dependencies_file_path": "env.yml""#);
    assert_eq!(e.conda_dependencies_file.as_deref(), Some("env.yml"));
    let e = parse_ok(r#""pip_requirements_file_path": "req.txt""#);
    assert_eq!(e.pip_requirements_file.as_deref(), Some("req.txt"));
    check_field_errors(
        r#""pip_requirements_file": "a.txt", "pip_requirements_file_path": "b.txt""#,
        &[
            "pip_requirements_file_path: 'b.txt' conflicts with pip_requirements_file 'a.txt'; \
           pip_requirements_file_path is the deprecated name of pip_requirements_file, give \
           only pip_requirements_file",
        ],
    );
}

/// `fields` with `"framework": framework` is accepted (`expect` empty) or rejected with
/// exactly `expect`.
#[track_caller]
fn check_preset(framework: &str, fields: &str, expect: &[&str]) {
    let fields = if fields.is_empty() {
        format!(r#""framework": "{framework}""#)
    } else {
        format!(r#""framework": "{framework}", {fields}"#)
    };
    let result = Estimator::from_json(&with_required(&fields));
    let errors = result.err().unwrap_or_default();
    assert_eq!(join_lines(&errors), expect.join("\n"), "{fields}");
}

#[test]
fn preset_rules() {
    // SKLearn: one node, one process, no distribution, no GPU.
    check_preset("SKLearn", "", &[]);
    check_preset(
        "SKLearn",
        r#""node_count": 2"#,
        &["node_count: SKLearn does not support node_count > 1, got 2"],
    );
    check_preset(
        "SKLearn",
        r#""process_count_per_node": 4"#,
        &["process_count_per_node: SKLearn does not support process_count_per_node > 1, got 4"],
    );
    check_preset(
        "SKLearn",
        r#""distributed_backend": "mpi""#,
        &["distributed_backend: SKLearn does not support distributed training"],
    );
    check_preset(
        "SKLearn",
        r#""distributed_training": {"type": "Mpi"}"#,
        &["distributed_training: SKLearn does not support distributed training"],
    );
    check_preset(
        "SKLearn",
        r#""use_gpu": true"#,
        &["use_gpu: SKLearn does not support GPUs"],
    );

    // PyTorch: mpi, gloo, nccl.
    for backend in ["mpi", "gloo", "nccl", "NCCL", "Gloo"] {
        check_preset(
            "PyTorch",
            &format!(r#""node_count": 2, "distributed_backend": "{backend}""#),
            &[],
        );
    }
    check_preset(
        "PyTorch",
        r#""distributed_backend": "ps""#,
        &["distributed_backend: PyTorch does not support 'ps'; it supports mpi, gloo, nccl"],
    );
    check_preset(
        "PyTorch",
        r#""distributed_training": {"type": "ParameterServer"}"#,
        &[
            "distributed_training: PyTorch does not support ParameterServer; it supports Mpi, \
           Gloo, Nccl",
        ],
    );

    // TensorFlow: mpi, ps, and the top-level parameter-server counts.
    check_preset(
        "TensorFlow",
        r#""distributed_backend": "ps", "worker_count": 2, "parameter_server_count": 1"#,
        &[],
    );
    check_preset(
        "TensorFlow",
        r#""distributed_training": {"type": "ParameterServer", "worker_count": 4}"#,
        &[],
    );
    check_preset(
        "TensorFlow",
        r#""distributed_backend": "gloo""#,
        &["distributed_backend: TensorFlow does not support 'gloo'; it supports mpi, ps"],
    );
    check_preset(
        "TensorFlow",
        r#""worker_count": 0"#,
        &["worker_count: must be at least 1, got 0"],
    );

    // Chainer: mpi only.
    check_preset("Chainer", r#""distributed_backend": "mpi""#, &[]);
    check_preset(
        "Chainer",
        r#""distributed_backend": "nccl""#,
        &["distributed_backend: Chainer does not support 'nccl'; it supports mpi"],
    );
    check_preset(
        "Chainer",
        r#""distributed_training": {"type": "Gloo"}"#,
        &["distributed_training: Chainer does not support Gloo; it supports Mpi"],
    );
    check_preset(
        "Chainer",
        r#""worker_count": 2"#,
        &["worker_count: Chainer does not take worker_count; only the TensorFlow preset does"],
    );

    // Names are matched case-insensitively; unknown ones are listed.
    check_preset("pytorch", "", &[]);
    check_preset(
        "Keras",
        r#""framework_version": "2.4", "distributed_backend": "gloo", "worker_count": 2"#,
        &["framework: 'Keras' is not one of SKLearn, PyTorch, TensorFlow, Chainer"],
    );
    check_preset(
        "PyTorch",
        r#""framework_version": "latest""#,
        &["framework_version: 'latest' is not a version like 1.6 or 0.20.3"],
    );
}

#[test]
fn plain_estimator_rules() {
    // The SDK's Estimator takes only 'mpi' as a string, but any distributed_training.
    check_field_errors(
        r#""distributed_backend": "gloo""#,
        &["distributed_backend: Estimator does not support 'gloo'; it supports mpi"],
    );
    for kind in ["Mpi", "Gloo", "Nccl", "ParameterServer"] {
        parse_ok(&format!(r#""distributed_training": {{"type": "{kind}"}}"#));
    }
    check_field_errors(
        r#""framework_version": "1.6""#,
        &[
            "framework_version: only a framework preset takes a version; set framework to \
           SKLearn, PyTorch, TensorFlow or Chainer",
        ],
    );
    check_field_errors(
        r#""parameter_server_count": 1"#,
        &[
            "parameter_server_count: Estimator does not take parameter_server_count; only the \
           TensorFlow preset does",
        ],
    );
}

#[test]
fn distribution_rules() {
    // Several nodes or processes need a backend, as in the SDK.
    let required = "distributed_backend: is required when node_count or \
                    process_count_per_node > 1: set distributed_backend or distributed_training";
    check_field_errors(r#""node_count": 2"#, &[required]);
    check_field_errors(r#""process_count_per_node": 2"#, &[required]);
    check_field_errors(
        r#""distributed_backend": "mpi", "distributed_training": {"type": "Gloo"}"#,
        &[
            "distributed_training: Gloo conflicts with distributed_backend 'mpi'; give only \
           distributed_training",
        ],
    );
    check_field_errors(
        r#""process_count_per_node": 2,
           "distributed_training": {"type": "Mpi", "process_count_per_node": 4}"#,
        &[
            "process_count_per_node: 2 conflicts with distributed_training.process_count_per_node \
           4; give it only in distributed_training",
        ],
    );
    check_field_errors(
        r#""distributed_training": {"type": "Mpi", "process_count_per_node": 0}"#,
        &["distributed_training.process_count_per_node: must be at least 1, got 0"],
    );

    #[track_caller]
    fn check(fields: &str, expect: Option<DistributedTraining>) {
        assert_eq!(parse_ok(fields).distribution(), expect, "{fields}");
    }
    check("", None);
    check(
        r#""node_count": 2, "process_count_per_node": 3, "distributed_backend": "MPI""#,
        Some(DistributedTraining::Mpi {
            process_count_per_node: 3,
        }),
    );
    check(
        r#""distributed_training": {"type": "mpi"}"#,
        Some(DistributedTraining::Mpi {
            process_count_per_node: 1,
        }),
    );
    check(
        r#""distributed_backend": "mpi", "distributed_training": {"type": "Mpi", "process_count_per_node": 2}"#,
        Some(DistributedTraining::Mpi {
            process_count_per_node: 2,
        }),
    );
    check(
        r#""framework": "PyTorch", "distributed_backend": "nccl""#,
        Some(DistributedTraining::Nccl),
    );
    check(
        r#""framework": "TensorFlow", "distributed_backend": "ps", "worker_count": 3"#,
        Some(DistributedTraining::ParameterServer {
            worker_count: 3,
            parameter_server_count: 1,
        }),
    );
}

#[test]
fn preset_packages() {
    #[track_caller]
    fn check(fields: &str, expect: &[&str]) {
        assert_eq!(parse_ok(fields).framework_packages(), expect, "{fields}");
    }
    check("", &[]);
    check(r#""framework": "SKLearn""#, &["scikit-learn"]);
    check(
        r#""framework": "SKLearn", "framework_version": "0.20.3""#,
        &["scikit-learn==0.20.3"],
    );
    check(
        r#""framework": "PyTorch", "framework_version": "1.6""#,
        &["torch==1.6"],
    );
    check(
        r#""framework": "TensorFlow", "framework_version": "2.3""#,
        &["tensorflow==2.3"],
    );
    check(
        r#""framework": "Chainer", "framework_version": "7.0.0""#,
        &["chainer==7.0.0"],
    );
    // The user's own pin of the framework wins, as in the SDK.
    check(
        r#""framework": "PyTorch", "framework_version": "1.6", "pip_packages": ["Torch>=2"]"#,
        &[],
    );
    check(
        r#""framework": "SKLearn", "conda_packages": ["scikit_learn=0.24"]"#,
        &[],
    );
    // Nothing is installed in a user-managed environment, and a conda file lists all.
    check(r#""framework": "PyTorch", "user_managed": true"#, &[]);
    check(
        r#""framework": "PyTorch", "conda_dependencies_file": "env.yml""#,
        &[],
    );
    // Other packages do not count, even with a shared prefix.
    check(
        r#""framework": "PyTorch", "pip_packages": ["torchvision"]"#,
        &["torch"],
    );

    let e = parse_ok(r#""framework": "PyTorch", "pip_packages": ["torchvision", "pillow"]"#);
    assert_eq!(e.pip_install(), ["torch", "torchvision", "pillow"]);

    // The table itself.
    assert_eq!(
        Framework::PyTorch.preset().packages(Some("1.6.*")),
        ["torch==1.6.*"]
    );
    assert!(PLAIN_ESTIMATOR.packages(Some("1")).is_empty());
    for (framework, row) in Framework::ALL.into_iter().zip(&PRESETS) {
        assert_eq!(row.framework, Some(framework));
        assert_eq!(framework.preset(), row);
        assert_eq!(framework.name().parse::<Framework>().ok(), Some(framework));
    }
}

#[test]
fn estimators_built_in_code_are_validated_too() {
    let mut e = Estimator::new("src", "/abs/train.py");
    e.node_count = 0;
    e.inputs.push(DataReference {
        mode: "stream".into(),
        ..DataReference::new("ds", "")
    });
    let errors = e.validate().err().unwrap_or_default();
    assert_eq!(
        join_lines(&errors),
        [
            "entry_script: must be a relative path inside source_directory, got '/abs/train.py'",
            "node_count: must be at least 1, got 0",
            "inputs[0].mode: 'stream' is not one of mount, download, upload",
        ]
        .join("\n")
    );
    assert_eq!(Estimator::new("src", "train.py").validate(), Ok(()));
}

#[test]
fn data_references_and_command_line() {
    let e = parse_ok(
        r#""inputs": [{"datastore": "blobs", "path_on_datastore": "train"}],
           "script_params": {
             "--train": {"datastore": "blobs", "path_on_datastore": "train"},
             "--test": {"datastore": "files", "path_on_datastore": "test", "data_reference_name": "test_data"},
             "--epochs": 2
           }"#,
    );
    let names: Vec<&str> = e.data_references().iter().map(|d| d.name()).collect();
    assert_eq!(names, ["blobs", "test_data"]);
    assert_eq!(
        e.command_line("python3", &mount_path),
        [
            "python3",
            "train.py",
            "--train",
            "/mnt/blobs/train",
            "--test",
            "/mnt/files/test",
            "--epochs",
            "2",
        ]
    );
}

/// An `environment_definition` as Azure ML writes it, with `python` and `docker` given.
fn definition(python: &str, docker: &str) -> String {
    format!(
        r#""environment_definition": {{"name": "sklearn-env", "version": null,
            "python": {python}, "environmentVariables": {{"OMP_NUM_THREADS": "1"}},
            "docker": {docker}, "spark": {{"repositories": []}}, "r": null}}"#
    )
}

const SKLEARN_PYTHON: &str = r#"{"userManagedDependencies": false, "interpreterPath": "python",
    "condaDependenciesFile": null, "baseCondaEnvironment": null,
    "condaDependencies": {"name": "project_environment", "channels": ["conda-forge"],
        "dependencies": ["python=3.11", "numpy", {"pip": ["scikit-learn", "six==1.16.0"]}]}}"#;

const AZUREML_DOCKER: &str = r#"{"enabled": false, "baseImage": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:20230509.v1",
    "baseDockerfile": null, "sharedVolumes": true, "shmSize": null, "arguments": [],
    "baseImageRegistry": {"address": null, "username": null, "password": null}}"#;

#[test]
fn an_environment_definition_becomes_the_estimators_environment() {
    let e = parse_ok(&definition(SKLEARN_PYTHON, AZUREML_DOCKER));
    assert_eq!(e.conda_packages, ["python=3.11", "numpy"]);
    assert_eq!(e.pip_packages, ["scikit-learn", "six==1.16.0"]);
    assert_eq!(e.environment_variables["OMP_NUM_THREADS"], "1");
    assert!(!e.user_managed);
    // Azure ML's default base image means "no image of my own".
    assert_eq!(e.custom_docker_image, None);
    assert!(!e.use_docker);
    // Folded: the estimator written back has the fields, and reads back the same.
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(Estimator::from_json(&json).unwrap(), e);

    // User-managed: the conda dependencies (here, Azure ML's defaults) are ignored.
    let own_image = parse_ok(&definition(
        r#"{"userManagedDependencies": true, "condaDependencies": {"dependencies": ["python=3.8", {"pip": ["azureml-defaults"]}]}}"#,
        r#"{"enabled": true, "baseImage": "python:3.11-slim", "shmSize": "2g"}"#,
    ));
    assert!(own_image.user_managed);
    assert_eq!(
        own_image.custom_docker_image.as_deref(),
        Some("python:3.11-slim")
    );
    assert_eq!(own_image.shm_size.as_deref(), Some("2g"));
    assert!(own_image.pip_packages.is_empty() && own_image.conda_packages.is_empty());
}

#[test]
fn an_environment_definition_is_the_whole_environment() {
    check_field_errors(
        &format!(
            r#"{}, "pip_packages": ["x"], "custom_docker_image": "img""#,
            definition(SKLEARN_PYTHON, AZUREML_DOCKER)
        ),
        &[
            "environment_definition: cannot be combined with pip_packages, custom_docker_image: \
           the Environment describes the whole environment, so put them in it",
        ],
    );
}

#[test]
fn what_an_environment_definition_cannot_ask_for_is_named() {
    check_field_errors(
        &definition(
            r#"{"interpreterPath": "/opt/conda/bin/python", "condaDependenciesFile": "env.yml",
                "condaDependencies": {"dependencies": ["numpy", 3, {"pip": "six"}]}}"#,
            r#"{"baseDockerfile": "FROM ubuntu", "baseImageRegistry": {"address": "my.azurecr.io"}}"#,
        ),
        &[
            "environment_definition.python.interpreterPath: '/opt/conda/bin/python' is not \
             supported: Runboard runs the environment's own python (or the target's, with \
             userManagedDependencies)",
            "environment_definition.python.condaDependenciesFile: is not supported by Runboard: \
             give the file's contents as condaDependencies (Environment.from_conda_specification \
             reads it), or use the estimator's conda_dependencies_file",
            "environment_definition.python.condaDependencies.dependencies[1]: expected a conda \
             package or {\"pip\": [...]}, got 3",
            "environment_definition.python.condaDependencies.dependencies[2].pip: expected a list \
             of strings, got the string \"six\"",
            "environment_definition.docker.baseDockerfile: is not supported by Runboard: build \
             the image and give it as baseImage",
            "environment_definition.docker.baseImageRegistry: is not supported by Runboard: \
             private registries are not supported; use a public baseImage",
        ],
    );
    check_field_errors(
        r#""environment_definition": {"name": "e", "enviromentVariables": {}, "python": []}"#,
        &[
            "environment_definition.enviromentVariables: unknown field 'enviromentVariables'; \
             did you mean 'environmentVariables'?",
            "environment_definition.python: expected an object, got a list",
        ],
    );
    check_field_errors(
        r#""environment_definition": "sklearn-env""#,
        &["environment_definition: expected an Environment object, got the string \"sklearn-env\""],
    );
}
