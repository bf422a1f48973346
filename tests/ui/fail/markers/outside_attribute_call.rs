use io_model::call;

fn main() {
    call!(f());
}
