package contactimport

// CSVRows is csvRows for the external tests.
var CSVRows = csvRows
