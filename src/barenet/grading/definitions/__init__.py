"""The exercise's tests: what each sends, how it judges, the mistakes it recognises, the advice."""
