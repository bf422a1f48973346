#[io_model::resumable(state = st)]
fn drain(st: &mut DrainState, q: &mut Queue) -> Result<IOResult<u32>> {
    let mut done: u32 = 0;
    'q: while let Some(job) = q.pop() {
        let c = q.submit(job);
        match wait!(Job => c) {
            () => {}
        }
        for _ in 0..3u8 {
            if q.full() {
                yield_now!(Full);
                continue 'q;
            }
        }
        done += 1;
    }
    Ok(IOResult::Done(done))
}
