//! Test support: copies a parquet file with its columns edited — renamed, retyped, added — to
//! build the odd files real publishers and pandas produce. pgrx-free.

use std::fs::File;
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;

/// Writes `dst` as `src`'s first record batch after `edit` changed its fields and columns.
pub fn rewrite(src: &str, dst: &str, edit: impl FnOnce(&mut Vec<Field>, &mut Vec<ArrayRef>)) {
    let batch = ParquetRecordBatchReaderBuilder::try_new(File::open(src).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let mut fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut columns = batch.columns().to_vec();
    edit(&mut fields, &mut columns);
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let mut writer = ArrowWriter::try_new(File::create(dst).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// Writes `dst` as `src` with column `name` replaced by `values` (of any type).
pub fn replace_column(src: &str, dst: &str, name: &str, values: ArrayRef) {
    rewrite(src, dst, |fields, columns| {
        let at = fields.iter().position(|f| f.name() == name).unwrap();
        fields[at] = Field::new(name, values.data_type().clone(), true);
        columns[at] = values;
    });
}

/// Writes `dst` as `src` without column `name`.
pub fn drop_column(src: &str, dst: &str, name: &str) {
    rewrite(src, dst, |fields, columns| {
        let at = fields.iter().position(|f| f.name() == name).unwrap();
        fields.remove(at);
        columns.remove(at);
    });
}

/// Writes `dst` as `src` with column `name` renamed `to`.
pub fn rename_column(src: &str, dst: &str, name: &str, to: &str) {
    rewrite(src, dst, |fields, _| {
        let at = fields.iter().position(|f| f.name() == name).unwrap();
        fields[at] = fields[at].clone().with_name(to);
    });
}
