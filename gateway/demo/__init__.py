"""The bundled demo: a JCM scenario replayed against a real local Kafka broker."""
