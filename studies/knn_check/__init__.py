"""The kNN check of the mixture's interval, on the selection study's records."""
