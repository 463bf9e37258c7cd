"""REST handlers, one module per API family. Each handler reads as: parse → act → render."""
