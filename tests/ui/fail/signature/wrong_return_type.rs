use io_model::Completion;

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<u32, io_model::Error> {
    wait!(c);
    Ok(1)
}

fn main() {}
