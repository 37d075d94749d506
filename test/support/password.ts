/** The demo accounts' password in every test database and test app made from the demo template. */
export const TEST_PASSWORD = 'correct horse battery staple';
