// placeholder, replaced with the widget example
export {};
