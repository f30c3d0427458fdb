//! The tests' HTTP server as a program, for the SQL-level tests: `taxi_testserver DIR PORT`
//! serves DIR on 127.0.0.1:PORT (faults by path prefix: see taxi_remote::testing) until killed.

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(port)) = (args.next(), args.next()) else {
        eprintln!("usage: taxi_testserver DIR PORT");
        std::process::exit(2);
    };
    let port: u16 = port.parse().expect("a port number");
    let server = taxi_remote::testing::Server::start(dir, port).expect("listening");
    println!("taxi_testserver: http://127.0.0.1:{}/", server.port());
    loop {
        std::thread::park();
    }
}
