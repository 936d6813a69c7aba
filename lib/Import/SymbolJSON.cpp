// Placeholder: written by this file's owner.
