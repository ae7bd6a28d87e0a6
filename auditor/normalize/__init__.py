"""Raw string frames from the readers -> typed canonical frames plus parse rejects."""
