//! Generates the gRPC `ExecutionService` (server and client) from `proto/execution.proto`
//! without protoc: `protox` parses the file into descriptors, `tonic-prost-build` writes the
//! Rust code into `OUT_DIR`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time, not compiled in: one build-script binary may serve several checkouts
    // that share a target directory.
    let proto_dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../proto");
    let file = proto_dir.join("execution.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let descriptors = protox::compile([&file], [&proto_dir])?;
    tonic_prost_build::configure().build_server(true).build_client(true).compile_fds(descriptors)?;
    Ok(())
}
