package browser

// The fake context's localStorage (storage.go has the real one).

import "context"

// SetLocalStorage implements Context: the origins of s replace what the context has for them.
func (c *fakeContext) SetLocalStorage(_ context.Context, s Storage) error {
	for _, o := range s.Origins() {
		if err := CheckOrigin(o); err != nil {
			return err
		}
	}
	if err := c.usable(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.storage == nil {
		c.storage = Storage{}
	}
	for o, items := range s.Clone() {
		c.storage[o] = items
	}
	return nil
}

// LastLocalStorage implements Context.
func (c *fakeContext) LastLocalStorage() Storage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.storage.Clone()
}
