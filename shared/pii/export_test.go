package pii

// ForgetTenantKeys empties the tenant keys r keeps, as a fresh process starts: a test then
// counts the unwraps of one invocation.
func (r *Keyring) ForgetTenantKeys() {
	r.tenantKeys.mu.Lock()
	defer r.tenantKeys.mu.Unlock()
	r.tenantKeys.keys = nil
}
