SELECT 'demo placeholder' AS demo;
