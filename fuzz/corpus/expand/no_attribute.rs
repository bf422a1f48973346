fn plain(st: &mut PlainState, c: Completion) -> Result<IOResult<u8>> {
    wait!(c);
    Ok(IOResult::Done(1))
}
