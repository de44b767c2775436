//! Integration tests of the Frame.io emulator over real HTTP on 127.0.0.1
//! (one test binary, to keep link times down).

mod assets;
mod binary;
mod common;
mod faults;
mod ims;
mod openapi;
mod upload;
