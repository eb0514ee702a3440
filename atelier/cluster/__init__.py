"""`atelier cluster`: NGINX in front of several API processes (or hosts), a streaming replica
serving reads, and an NGINX cache that the API purges before it acknowledges a write."""
