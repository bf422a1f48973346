#[io_model::resumable(state = st)]
fn locals<T: Clone>(st: &mut LocalsState, c: Completion, v: &[u8], t: T) -> Result<IOResult<u32>> {
    let a = compute();
    let b: &[u8] = v;
    let g: T = t.clone();
    let ref r = a;
    let (p, q) = pair();
    wait!(c);
    Ok(IOResult::Done(a + b.len() as u32 + *r + p + q))
}
