#[io_model::resumable]
impl Thing {
    #[resumable(state = self.st)]
    async fn by_value(self, c: Completion) -> Result<IOResult<()>> {
        wait!(c);
        Ok(IOResult::Done(()))
    }

    #[resumable(state = self.st)]
    fn shared(&self) -> u32 {
        yield_now!();
        1
    }

    #[resumable(state = st, state = other, colour = red)]
    const fn args(&mut self, st: &Wrong) -> Result<u32> {
        call!(op())
    }
}
