#[io_model::resumable(state = st)]
struct S;

fn main() {}
