package web

// securityRoutes are the security routes (owned by the security feature).
func (w *Web) securityRoutes() []Route { return nil }
