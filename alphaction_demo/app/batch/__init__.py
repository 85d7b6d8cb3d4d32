"""`alphaction-demo batch`: many videos, on a local process pool or an existing Ray cluster."""
