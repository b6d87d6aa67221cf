fn main() {
    println!("cargo:rerun-if-changed=../udl/oxim.udl");
    // The UDL lives outside the crate (it is the project's contract), so name the crate here.
    uniffi::generate_scaffolding_for_crate("../udl/oxim.udl", "oxim_ffi")
        .expect("UniFFI scaffolding from udl/oxim.udl");
}
