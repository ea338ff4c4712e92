"""Lightning modules (loss and optimisation), Trainer factory and seeding."""
