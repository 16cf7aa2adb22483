package web

// outboxRoutes are the outbox routes (owned by the outbox feature).
func (w *Web) outboxRoutes() []Route { return nil }
