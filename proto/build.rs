//! Compiles `timoneiro/v1/*.proto` with protox (pure Rust, no system protoc)
//! and generates prost messages plus tonic client and server.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["timoneiro/v1/timoneiro.proto"];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    let fds = protox::compile(protos, ["."])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
