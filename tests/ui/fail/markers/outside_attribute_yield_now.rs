use io_model::yield_now;

fn main() {
    yield_now!();
}
