"""The MkDocs adapter: the ``dropout-figs`` plugin (figures and macros in pages)."""
