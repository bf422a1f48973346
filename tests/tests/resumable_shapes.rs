//! The shapes of the generated-against-hand-written bench
//! (`benches/shapes/`): each hand-written machine and its `#[resumable]`
//! version return the same values and issue the same I/O, with completions
//! finished at once and with every wait suspending, so the bench compares
//! like with like.

// The bench reads fields this test does not.
#[allow(dead_code)]
#[path = "../benches/shapes/mod.rs"]
mod shapes;

use shapes::{Disk, Variant, SHAPES};

#[test]
fn both_versions_of_every_shape_agree() {
    for shape in &SHAPES {
        for immediate in [true, false] {
            let mut results = Vec::new();
            for v in [Variant::Hand, Variant::Generated] {
                let mut d = Disk::new(immediate);
                let sum = (shape.run)(v, &mut d, 100);
                results.push((sum, d.ios));
            }
            assert_eq!(
                results[0], results[1],
                "{} (immediate: {immediate}): (checksum, I/Os) of hand-written and generated",
                shape.name
            );
            assert!(results[0].1 >= 100, "{}: every run does I/O", shape.name);
        }
    }
}

#[test]
fn generated_states_are_no_larger_than_async_futures() {
    for shape in &SHAPES {
        let z = (shape.sizes)();
        assert!(
            z.generated <= z.async_fn,
            "{}: generated state {} bytes, async fn future {}",
            shape.name,
            z.generated,
            z.async_fn
        );
    }
}
