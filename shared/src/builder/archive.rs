//! The project as a ZIP, built in memory (in the worker), every file under one top-level folder.

use super::project::File;
use crate::error::{Error, Result};
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;

pub fn zip(folder: &str, files: &[File]) -> Result<Vec<u8>> {
    let fail = |e: &dyn std::fmt::Display| Error::internal("building the ZIP", e.to_string());
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).unix_permissions(0o644);
    for file in files {
        writer.start_file(format!("{folder}/{}", file.path), options).map_err(|e| fail(&e))?;
        writer.write_all(file.content.as_bytes()).map_err(|e| fail(&e))?;
    }
    Ok(writer.finish().map_err(|e| fail(&e))?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn every_file_is_in_the_zip_under_the_folder_byte_for_byte() {
        let files = vec![
            File { path: "README.md".into(), content: "# Hello\n".into() },
            File { path: "src/app.ts".into(), content: "export const x = 1;\n".repeat(50) },
        ];
        let bytes = zip("fhir-app", &files).expect("zipped");
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a valid ZIP");
        assert_eq!(archive.len(), 2);
        for file in &files {
            let mut entry = archive.by_name(&format!("fhir-app/{}", file.path)).expect("present");
            let mut content = String::new();
            entry.read_to_string(&mut content).expect("readable");
            assert_eq!(content, file.content);
        }
    }
}
