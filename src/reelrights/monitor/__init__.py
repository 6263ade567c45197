"""Following a log from outside: its public endpoints, a monitor's state, what touches a party."""
