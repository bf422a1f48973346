//! How the expansion of `#[resumable]` grows with the function: expanded
//! bytes per suspension point for functions of N points in a straight
//! line, in a loop, and nested in `if`/`match`/`loop`, and the time to
//! expand 200 points (from the tokens the compiler hands the attribute to
//! the tokens it returns). The size must grow linearly: bytes per point at
//! N=160 within 1.5x of those at N=10. The times are medians over rounds
//! that expand the three shapes in turn, in the thread's CPU time (which
//! other processes' load on a shared machine does not inflate) and in
//! wall-clock time.
//!
//! `cargo bench -p io-model-transform --bench growth` prints the table;
//! `cargo bench -p io-model-transform --bench growth -- --emit loop 160`
//! prints the source of one function instead (`scripts/bench-expansion.sh`
//! builds it to measure compile time and memory). Timings are reported,
//! never asserted.

use std::fmt::Write;
use std::time::Instant;

#[path = "../../../tests/benches/common/timing.rs"]
mod timing;
use timing::{median, thread_cpu_ns};

#[derive(Clone, Copy)]
enum Shape {
    Straight,
    Loop,
    Nested,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Straight => "straight",
            Shape::Loop => "loop",
            Shape::Nested => "nested",
        }
    }
}

/// One point's worth of code: an I/O, a wait, a side effect.
fn chunk(out: &mut String, i: usize, shape: Shape) {
    match (shape, i % 3) {
        (Shape::Nested, 0) => writeln!(
            out,
            "if k > {i} {{ let c{i} = s.io({i}); wait!(c{i}); s.log({i}); }} else {{ s.log({i}); }}"
        ),
        (Shape::Nested, 1) => writeln!(
            out,
            "match k % 3 {{ 0 => {{ let c{i} = s.io({i}); wait!(c{i}); acc += {i}; }} 1 => s.log({i}), _ => {{}} }}"
        ),
        (Shape::Nested, _) => writeln!(
            out,
            "let mut j{i}: u32 = 0; loop {{ let c{i} = s.io({i}); wait!(c{i}); j{i} += 1; if j{i} > k {{ break; }} }}"
        ),
        _ => writeln!(out, "let c{i} = s.io({i}); wait!(c{i}); acc += {i}; s.log({i});"),
    }
    .unwrap();
}

/// The source of one function with `n` suspension points.
fn function(shape: Shape, n: usize) -> String {
    let mut body = String::new();
    for i in 0..n {
        chunk(&mut body, i, shape);
    }
    let body = match shape {
        Shape::Loop => {
            format!("let mut round: u32 = 0;\nwhile round < k {{\n{body}round += 1;\n}}\n")
        }
        _ => body,
    };
    format!(
        "#[io_model::resumable(state = st)]\n\
         pub fn f(st: &mut FState, s: &Sched, k: u32) -> Result<IOResult<u32>> {{\n\
         let mut acc: u32 = 0;\n{body}Ok(IOResult::Done(acc))\n}}\n"
    )
}

/// The attribute's arguments and the item, as tokens: what the compiler
/// hands the attribute (lexing the source is the compiler's work).
fn tokens(src: &str) -> (proc_macro2::TokenStream, proc_macro2::TokenStream) {
    let mut item: syn::ItemFn = syn::parse_str(src).expect("the generated function parses");
    let attr = item.attrs.remove(0);
    let args = match attr.meta {
        syn::Meta::List(l) => l.tokens,
        _ => proc_macro2::TokenStream::new(),
    };
    (args, quote::quote!(#item))
}

fn expand(
    args: &proc_macro2::TokenStream,
    item: &proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    io_model_transform::expand(args.clone(), item.clone()).expect("the generated function expands")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--emit") {
        let shape = match args.get(i + 1).map(String::as_str) {
            Some("straight") => Shape::Straight,
            Some("loop") => Shape::Loop,
            Some("nested") => Shape::Nested,
            other => {
                eprintln!("--emit takes straight, loop or nested, not {other:?}");
                std::process::exit(2);
            }
        };
        let n: usize = match args.get(i + 2).and_then(|n| n.parse().ok()) {
            Some(n) if n > 0 => n,
            _ => {
                eprintln!("--emit SHAPE N takes a number of points N > 0");
                std::process::exit(2);
            }
        };
        print!("{}", function(shape, n));
        return;
    }
    println!("expanded bytes per suspension point");
    println!(
        "{:<10} {:>10} {:>10} {:>10} {:>12}",
        "shape", "N=10", "N=40", "N=160", "160 vs 10"
    );
    for shape in [Shape::Straight, Shape::Loop, Shape::Nested] {
        let per: Vec<f64> = [10, 40, 160]
            .iter()
            .map(|&n| {
                let (args, item) = tokens(&function(shape, n));
                expand(&args, &item).to_string().len() as f64 / n as f64
            })
            .collect();
        println!(
            "{:<10} {:>10.0} {:>10.0} {:>10.0} {:>11.2}x",
            shape.name(),
            per[0],
            per[1],
            per[2],
            per[2] / per[0]
        );
    }
    println!();
    const ROUNDS: usize = 15;
    println!("time to expand 200 points (median of {ROUNDS} rounds, the shapes in turn)");
    println!("{:<10} {:>10} {:>10}", "shape", "CPU ms", "wall ms");
    let shapes = [Shape::Straight, Shape::Loop, Shape::Nested];
    let inputs: Vec<_> = shapes.iter().map(|s| tokens(&function(*s, 200))).collect();
    let mut cpu = vec![Vec::new(); shapes.len()];
    let mut wall = vec![Vec::new(); shapes.len()];
    for _ in 0..ROUNDS {
        for (i, (args, item)) in inputs.iter().enumerate() {
            let (c, t) = (thread_cpu_ns(), Instant::now());
            std::hint::black_box(expand(args, item));
            wall[i].push(t.elapsed().as_secs_f64() * 1e3);
            cpu[i].push((thread_cpu_ns() - c) as f64 / 1e6);
        }
    }
    for (i, shape) in shapes.iter().enumerate() {
        let (c, w) = (median(cpu[i].clone()), median(wall[i].clone()));
        println!("{:<10} {:>10.1} {:>10.1}", shape.name(), c, w);
    }
}
