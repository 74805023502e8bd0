"""Custom actions for the Karlstad citizen assistant (rasa-sdk, Rasa environment)."""
