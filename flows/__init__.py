"""Ray Data pipelines that wire qazflow's operators; the CLI and Hydra config."""
