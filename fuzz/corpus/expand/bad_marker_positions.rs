#[io_model::resumable(state = st)]
fn bad(st: &mut BadState, c: Completion) -> Result<IOResult<u32>> {
    let f = || wait!(c);
    let x = foo(call!(op()));
    let y = call!(op())? + 1;
    match x {
        v if call!(check(v)) => {}
        _ => {}
    }
    for i in call!(items()) {}
    println!("{}", wait!(c));
    let g = async { yield_now!(); };
    Ok(IOResult::Done(x))
}
