package archive

// Archived is archived for the external tests.
var Archived = archived
