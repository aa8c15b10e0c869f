//! The batch-engine examples in `docs/` stay correct: the Kubernetes Indexed Job parses as a
//! Job whose pods each run one 1-based shard `--shard $((JOB_COMPLETION_INDEX + 1))/N` with N
//! equal to its completions, and the Slurm array script passes `bash -n` and shards by
//! `SLURM_ARRAY_TASK_ID` over as many shards as array tasks.

use std::path::PathBuf;

fn doc(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("docs")
        .join(name)
}

#[test]
fn kubernetes_indexed_job_shards_by_completion_index() {
    let text = std::fs::read_to_string(doc("k8s-indexed-job.yaml")).expect("the example exists");
    let job: serde_yaml::Value = serde_yaml::from_str(&text).expect("valid YAML");
    assert_eq!(job["kind"].as_str(), Some("Job"));
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let n = spec["completions"].as_u64().expect("completions");
    let args = spec["template"]["spec"]["containers"][0]["args"][0]
        .as_str()
        .expect("a shell command");
    assert!(args.starts_with("holdtime sweep "), "{args}");
    assert!(
        args.contains(&format!("--shard \"$((JOB_COMPLETION_INDEX + 1))/{n}\"")),
        "{args}"
    );
    assert!(args.contains("--format json"), "{args}");
}

#[test]
fn slurm_array_script_is_valid_bash_and_shards_by_task_id() {
    let path = doc("slurm-array.sh");
    let text = std::fs::read_to_string(&path).expect("the example exists");
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .status()
        .expect("bash runs");
    assert!(status.success(), "bash -n rejects {}", path.display());
    assert!(text.contains("#SBATCH --array=1-8"));
    assert!(text.contains("SHARDS=8"));
    assert!(text.contains("--shard \"${SLURM_ARRAY_TASK_ID}/${SHARDS}\""));
    assert!(text.contains("holdtime merge"));
}
