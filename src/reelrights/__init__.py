"""reelrights: a neutral, verifiable clearinghouse for licensed generative AI in film."""

__version__ = "0.1.0"
