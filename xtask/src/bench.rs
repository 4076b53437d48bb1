//! `cargo xtask bench [NAME]`: each benchmark prints its figure beside a baseline
//! measured in the same run.

use anyhow::{Result, bail};

/// The benchmarks, by name.
pub(crate) const NAMES: &[&str] = &[
    "submit",
    "env",
    "distributed",
    "metrics",
    "portal",
    "kernel",
    "scale",
];

pub(crate) fn main(args: &[String]) -> Result<()> {
    let names: Vec<&str> = if args.is_empty() {
        NAMES.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    for name in names {
        match name {
            "submit" | "env" | "distributed" | "scale" => {
                crate::setup::uv()?;
                if name == "distributed" {
                    crate::setup::slurm()?;
                }
                crate::cargo(&["bench", "--package", "runboard-server", "--bench", name])?;
                // Scenarios 2 and 6 of the scale issue live in their own file.
                if name == "scale" {
                    crate::cargo(&[
                        "bench",
                        "--package",
                        "runboard-server",
                        "--bench",
                        "scale_viewers_disk",
                    ])?;
                }
            }
            // (a) of the metrics benchmark: the tfevents reader beside
            // tensorboard-data-server.
            "metrics" => {
                crate::setup::uv()?;
                for bench in ["tfevents", "metrics"] {
                    crate::cargo(&["bench", "--package", "runboard-server", "--bench", bench])?;
                }
            }
            "portal" => crate::portal::bench()?,
            // The notebook kernel in Chromium and native, beside CPython on the same
            // cell; the kernel worker's download beside the portal's.
            "kernel" => crate::kernel_bench::bench()?,
            other => bail!("unknown benchmark {other:?}; known: {}", NAMES.join(", ")),
        }
    }
    Ok(())
}
