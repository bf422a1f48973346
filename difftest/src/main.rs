//! `io-model-programs`: generate random `#[resumable]` programs, run them
//! under every driver against their straight-line oracle, shrink and save
//! what diverges.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use io_model_programs::ast::Program;
use io_model_programs::emit::{module, resumable_source, workspace_root};
use io_model_programs::gen::{generate, GenConfig, CONSTRUCTS, KNOWN_FAILING};
use io_model_programs::regress;
use io_model_programs::run::{run_many, Divergent, Options, Runner, Status, Timing};
use io_model_programs::shrink::Shrinker;

/// Random-program differential tester of #[io_model::resumable].
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of programs (0..count).
    #[arg(long, default_value_t = 200)]
    count: usize,
    /// Programs per generated crate.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Run only program K (reproduce a failure); a comma-separated list runs several.
    #[arg(long, value_delimiter = ',')]
    only: Vec<usize>,
    /// Do not save shrunk regressions.
    #[arg(long)]
    no_save: bool,
    /// Do not shrink diverging programs.
    #[arg(long)]
    no_shrink: bool,
    /// Diverging programs to shrink at most.
    #[arg(long, default_value_t = 5)]
    max_shrink: usize,
    /// Batches built at once (each with its own target directory).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Driver seeds per mode (deferred, failing, cancel; immediate runs once).
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Constructs to leave out, comma-separated (see --list-constructs).
    #[arg(long, value_delimiter = ',')]
    disable: Vec<String>,
    /// Leave out the shapes of the open transform findings (gen::KNOWN_FAILING).
    #[arg(long)]
    skip_known: bool,
    /// Deepest nesting of constructs.
    #[arg(long, default_value_t = 4)]
    max_depth: usize,
    /// Most statements of a main function.
    #[arg(long, default_value_t = 28)]
    max_stmts: usize,
    /// Print the programs' source (with --only) instead of running them.
    #[arg(long)]
    print: bool,
    /// List the constructs --disable accepts.
    #[arg(long)]
    list_constructs: bool,
    /// Where generated crates go (default: target/difftest).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Seconds a batch's build may take, plus one per program in it; a
    /// build that takes longer is killed and split until the program it
    /// hangs on is found (reported as `hang`).
    #[arg(long, default_value_t = 60)]
    build_timeout: u64,
    /// Build and run the saved regressions (difftest/regressions/) and
    /// compare with known-failures.txt, instead of generating programs.
    #[arg(long)]
    regressions: bool,
}

fn check(cli: &Cli) -> Result<(), String> {
    if cli.count == 0 && cli.only.is_empty() {
        return Err("--count must be at least 1".into());
    }
    if !(1..=5000).contains(&cli.batch) {
        return Err(format!("--batch must be in 1..=5000, not {}", cli.batch));
    }
    if !(1..=16).contains(&cli.jobs) {
        return Err(format!("--jobs must be in 1..=16, not {}", cli.jobs));
    }
    if !(1..=86_400).contains(&cli.build_timeout) {
        return Err(format!(
            "--build-timeout must be in 1..=86400 seconds, not {}",
            cli.build_timeout
        ));
    }
    if !(1..=1000).contains(&cli.seeds) {
        return Err(format!("--seeds must be in 1..=1000, not {}", cli.seeds));
    }
    if !(1..=8).contains(&cli.max_depth) {
        return Err(format!(
            "--max-depth must be in 1..=8, not {}",
            cli.max_depth
        ));
    }
    if !(1..=500).contains(&cli.max_stmts) {
        return Err(format!(
            "--max-stmts must be in 1..=500, not {}",
            cli.max_stmts
        ));
    }
    for d in &cli.disable {
        if !CONSTRUCTS.contains(&d.as_str()) {
            return Err(format!(
                "--disable: unknown construct `{d}`; known: {}",
                CONSTRUCTS.join(", ")
            ));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Candidates the shrinker cannot print are caught: stay quiet about them.
    std::panic::set_hook(Box::new(|_| {}));
    if cli.list_constructs {
        println!("{}", CONSTRUCTS.join("\n"));
        return ExitCode::SUCCESS;
    }
    if let Err(e) = check(&cli) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let gen = GenConfig {
        max_depth: cli.max_depth,
        max_stmts: cli.max_stmts,
        disabled: cli
            .disable
            .iter()
            .cloned()
            .chain(
                cli.skip_known
                    .then_some(KNOWN_FAILING)
                    .into_iter()
                    .flatten()
                    .map(|s| s.to_string()),
            )
            .collect::<BTreeSet<_>>(),
    };
    let programs: Vec<usize> = if cli.only.is_empty() {
        (0..cli.count).collect()
    } else {
        cli.only.clone()
    };
    if cli.print {
        for &i in &programs {
            let p = generate(cli.seed, i, &gen);
            println!("{}", module(&p, &format!("p{i}"), "").text);
        }
        return ExitCode::SUCCESS;
    }
    let work_dir = cli
        .work_dir
        .clone()
        .unwrap_or_else(|| workspace_root().join("target").join("difftest"));
    if cli.regressions {
        return check_regressions(&work_dir, cli.seeds);
    }
    let opts = Options {
        seed: cli.seed,
        programs,
        batch: cli.batch,
        jobs: cli.jobs,
        seeds: cli.seeds,
        gen: gen.clone(),
        work_dir: work_dir.clone(),
        progress: !cli.quiet,
        optimize_macros: true,
        build_timeout: Duration::from_secs(cli.build_timeout),
    };
    let t = Instant::now();
    let summary = match run_many(&opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let wall = t.elapsed();
    println!(
        "seed {}: {} programs, {} runs ({} cancelled partway), {} diverging programs, {} diverging runs",
        cli.seed,
        summary.programs,
        summary.runs,
        summary.cancelled,
        summary.divergent.len(),
        summary.runs_by_kind.values().sum::<usize>()
    );
    println!(
        "time: {:.1} s wall, {:.1} s in cargo ({} builds), {:.1} s running; {:.1} programs/s",
        wall.as_secs_f64(),
        summary.timing.build.as_secs_f64(),
        summary.timing.builds,
        summary.timing.run.as_secs_f64(),
        summary.programs as f64 / wall.as_secs_f64().max(1e-9)
    );
    let by_kind = summary.programs_by_kind();
    if !by_kind.is_empty() {
        let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k}={n}")).collect();
        println!("diverging programs by kind: {}", kinds.join(" "));
        let runs: Vec<String> = summary
            .runs_by_kind
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect();
        println!("diverging runs by kind: {}", runs.join(" "));
    }
    println!("coverage:\n{}", summary.coverage.render());
    for d in &summary.divergent {
        let first = d.detail.lines().next().unwrap_or("");
        println!(
            "DIVERGENCE program {} [{}] {} {}  (repro: --seed {} --only {})",
            d.index, d.kind, d.mode, first, cli.seed, d.index
        );
    }
    if !cli.no_shrink {
        let mut shrunk_kinds = 0usize;
        for d in summary.divergent.iter().take(cli.max_shrink) {
            if d.kind.starts_with("oracle") {
                println!(
                    "program {}: a generator bug ({}), not shrunk",
                    d.index, d.kind
                );
                continue;
            }
            shrunk_kinds += 1;
            shrink_and_save(&cli, &gen, &work_dir, d);
        }
        let _ = shrunk_kinds;
    }
    if summary.clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The part of a divergence a shrunk program must keep: its kind, its
/// driver, and for a compile error its code (or first words).
fn signature(kind: &str, mode: &str, detail: &str) -> (String, String, String) {
    let code = if kind == "compile" {
        let first = detail.lines().next().unwrap_or("");
        let msg = first.split_once(": ").map(|(_, m)| m).unwrap_or(first);
        match msg.find("error[") {
            Some(i) => msg[i..].split(']').next().unwrap_or("").to_string(),
            None => msg.split_whitespace().take(4).collect::<Vec<_>>().join(" "),
        }
    } else {
        String::new()
    };
    (kind.to_string(), mode.to_string(), code)
}

fn shrink_and_save(cli: &Cli, gen: &GenConfig, work_dir: &std::path::Path, d: &Divergent) {
    let p = generate(cli.seed, d.index, gen);
    let want = signature(&d.kind, &d.mode, &d.detail);
    let mut runner = Runner::new(&work_dir.join("shrink"), cli.seeds);
    runner.build_timeout = Duration::from_secs(cli.build_timeout);
    let mut last_detail = d.detail.clone();
    let mut reproduces = |cands: &[Program]| -> Vec<bool> {
        // A candidate the printer cannot print (it would not compile
        // anyway) stands in as an empty module that does not reproduce.
        let modules: Vec<_> = cands
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let name = format!("c{i}");
                std::panic::catch_unwind(|| module(c, &name, "")).unwrap_or_else(|_| {
                    io_model_programs::emit::Module {
                        name: name.clone(),
                        index: c.index,
                        text: "pub mod oracle { compile_error!(\"unprintable\"); }\n".into(),
                        oracle_line: 1,
                    }
                })
            })
            .collect();
        let mut timing = Timing::default();
        match runner.run(&modules, &mut timing) {
            Ok(st) => st
                .iter()
                .map(|s: &Status| match s.divergence() {
                    Some((k, m, det)) => {
                        let ok = signature(&k, &m, &det) == want;
                        if ok {
                            last_detail = det;
                        }
                        ok
                    }
                    None => false,
                })
                .collect(),
            Err(e) => {
                eprintln!("shrink: {e}");
                vec![false; cands.len()]
            }
        }
    };
    let t = Instant::now();
    let mut s = Shrinker {
        reproduces: &mut reproduces,
        batch: 24,
        max_steps: 60,
    };
    let (small, steps) = s.shrink(&p);
    let name = format!("s{}_p{}_{}", cli.seed, d.index, d.kind.replace('-', "_"));
    println!(
        "\n=== program {} [{}] shrunk in {steps} steps ({:.0} s) to:",
        d.index,
        d.kind,
        t.elapsed().as_secs_f64()
    );
    let src = resumable_source(&small);
    let end = src.find("pub struct M {").unwrap_or(src.len());
    println!("{}", src[..end].trim_end());
    println!("--- {}", last_detail.lines().next().unwrap_or(""));
    if !cli.no_save {
        let note = format!(
            "Divergence: {} {}\n{}",
            d.kind,
            d.mode,
            last_detail.lines().take(6).collect::<Vec<_>>().join("\n")
        );
        match regress::save(&small, &name, &note) {
            Ok(path) => println!("saved {}", path.display()),
            Err(e) => eprintln!("error: cannot save the regression: {e}"),
        }
    }
}

fn check_regressions(work_dir: &std::path::Path, seeds: u64) -> ExitCode {
    let d = regress::dir();
    let known = match regress::known_failures(&d) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: cannot read known-failures.txt: {e}");
            return ExitCode::from(2);
        }
    };
    let results = match regress::run_all(&d, &work_dir.join("regressions"), seeds) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut bad = 0;
    for (name, div) in &results {
        let listed = known.contains_key(name);
        let verdict = match (div, listed) {
            (None, false) => "pass".to_string(),
            (Some(_), true) => "known failure".to_string(),
            (None, true) => {
                bad += 1;
                "PASSES BUT IS LISTED in known-failures.txt".to_string()
            }
            (Some(_), false) => {
                bad += 1;
                "FAILS".to_string()
            }
        };
        println!("{name}: {verdict}");
        if let Some((kind, detail)) = div {
            println!("  [{kind}]");
            for l in detail.lines() {
                println!("    {l}");
            }
        }
    }
    for name in known.keys() {
        if !results.iter().any(|(n, _)| n == name) {
            bad += 1;
            println!("{name}: listed in known-failures.txt but no such regression");
        }
    }
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
